"""Planning valid streams: whole captures of interleaved call sessions, as Daily delivers them.

A stream is planned as sessions first (each with its direction, its call client, its
identity and its actions in lifecycle order), then room-scoped and session-less events,
then an interleaving of all of them that keeps each session's own order. The broken-stream
mutators (:mod:`.broken`) start from such a plan, with one session of a shape they need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from ..surfaces import IDENTITY_FIELDS
from .generate import def_value, event_strategy
from .values import json_values

Event = dict[str, Any]
Strategy = st.SearchStrategy

#: daily-js events that are not telephony events; streams mix them in, the checker skips them.
NON_TELEPHONY_ACTIONS: tuple[str, ...] = (
    "joined-meeting",
    "participant-joined",
    "participant-updated",
    "participant-left",
    "app-message",
    "transcription-message",
    "recording-started",
    "nonfatal-error",
    "left-meeting",
)


@dataclass
class PlannedSession:
    """One call session of a stream being built: its key, identity and actions in order."""

    direction: str  # "in" or "out"
    client: str
    session_id: str
    identity: dict[str, Any]
    actions: list[str]


# Forced shapes for the session a broken stream mutates (None: any valid session).
SHAPES: dict[str, dict[str, Any]] = {
    "answered": {"direction": "out", "connected": True, "answered": True},
    "ends-stopped": {"connected": True, "end": "stopped"},
    "has-middle": {"connected": True, "middle": True, "end": "any-terminal"},
    "two-events": {"connected": True, "end": "any-terminal"},
    "connected": {"connected": True},
}


@st.composite
def _session(draw: st.DrawFn, client: str, session_id: str, shape: dict[str, Any] | None = None) -> PlannedSession:
    shape = shape or {}
    direction = shape.get("direction") or draw(st.sampled_from(("in", "out")))
    prefix = "dialin" if direction == "in" else "dialout"
    connected = shape.get("connected") or draw(st.integers(0, 4)) > 0  # most calls connect
    answered = direction == "out" and connected and (shape.get("answered") or draw(st.booleans()))
    warnings = draw(st.integers(1 if shape.get("middle") else 0, 2))
    end = shape.get("end", "any")
    if end == "any":
        end = draw(st.sampled_from(("stopped", "error", "error+stopped", "stopped+error", "open")))
    elif end == "any-terminal":
        end = draw(st.sampled_from(("stopped", "error", "error+stopped")))
    if not connected and warnings == 0 and end in ("stopped", "stopped+error", "open"):
        end = "error"  # a session's first event is never its stop (L302), and never empty
    middle = [f"{prefix}-warning"] * warnings
    if answered:
        middle.insert(draw(st.integers(0, len(middle))), "dialout-answered")  # ringing, then answered
    actions = ([f"{prefix}-connected"] if connected else []) + middle
    actions += [f"{prefix}-{kind}" for kind in end.split("+") if kind != "open"]
    identity = {"provider": draw(def_value("provider")), "sipCallId": draw(def_value("sipCallId"))}
    if direction == "out":
        identity["destination"] = draw(def_value("address"))
        identity["origin"] = draw(def_value("address"))
    return PlannedSession(direction, client, session_id, identity, actions)


def _session_event(draw: st.DrawFn, session: PlannedSession, action: str, surface: str) -> Event:
    """A valid event of ``action`` for ``session``: its key and, where present, its identity."""
    event = draw(event_strategy(action, surface))
    event["callClientId"] = session.client
    event["sessionId"] = session.session_id
    for name in IDENTITY_FIELDS:
        if name in event:
            event[name] = session.identity[name]
    return event


@st.composite
def _session_group(
    draw: st.DrawFn, clients: list[str], shape: dict[str, Any] | None, surface: str
) -> tuple[PlannedSession, list[Event]]:
    session = draw(_session(draw(st.sampled_from(clients)), draw(def_value("sessionId")), shape))
    return session, [_session_event(draw, session, a, surface) for a in session.actions]


@st.composite
def _lone_event(draw: st.DrawFn, clients: list[str], other_events: bool, surface: str) -> Event:
    """``dialin-ready`` (room-scoped, L3), a session-less ``dialout-error``/``-warning`` (L12),
    or a non-telephony event."""
    kinds = ("dialin-ready", "dialout-error", "dialout-warning", *(("other",) if other_events else ()))
    kind = draw(st.sampled_from(kinds))
    if kind == "other":
        event: Event = {"action": draw(st.sampled_from(NON_TELEPHONY_ACTIONS))}
        event.update(draw(st.dictionaries(st.sampled_from(("participant", "data", "fromId", "text")), json_values())))
    else:
        event = draw(event_strategy(kind, surface))
        event.pop("sessionId", None)
    event["callClientId"] = draw(st.sampled_from(clients))
    return event


# One item of a stream plan: the index of its session (None for session-less events) and the event.
Plan = list[tuple[int | None, Event]]


@st.composite
def plan_stream(
    draw: st.DrawFn,
    min_sessions: int,
    max_sessions: int,
    max_call_clients: int,
    other_events: bool,
    victim: dict[str, Any] | None = None,
    surface: str = "daily-js",
) -> tuple[Plan, list[PlannedSession]]:
    """A valid stream of ``surface``'s events, each tagged with its session; session 0 has shape
    ``victim``."""
    n_clients = draw(st.integers(1, max_call_clients))
    clients = draw(st.lists(def_value("callClientId"), min_size=n_clients, max_size=n_clients, unique=True))
    # Sessions are a list (not a count), so shrinking can drop any of them, not only the last.
    # Unique ids: a session id seen twice would be one session to the checker and consumers.
    first = [draw(_session_group(clients, victim, surface))] if victim is not None else []
    rest = draw(
        st.lists(
            _session_group(clients, None, surface),
            min_size=max(0, min_sessions - len(first)),
            max_size=max_sessions - len(first),
            unique_by=lambda g: g[0].session_id,
        )
    )
    taken = {g[0].session_id for g in first}
    chosen = first + [g for g in rest if g[0].session_id not in taken]
    sessions = [s for s, _ in chosen]
    groups: list[list[tuple[int | None, Event]]] = [[(i, e) for e in evs] for i, (_, evs) in enumerate(chosen)]
    # Room-scoped and session-less events (L3, L12), and non-telephony events.
    for event in draw(st.lists(_lone_event(clients, other_events, surface), max_size=5)):
        groups.append([(None, event)])
    # Interleave: a permutation of group tokens, each group keeping its own order.
    tokens = draw(st.permutations([g for g, items in enumerate(groups) for _ in items]))
    cursors = [0] * len(groups)
    plan: Plan = []
    for g in tokens:
        plan.append(groups[g][cursors[g]])
        cursors[g] += 1
    return plan, sessions


def streams(
    *,
    min_sessions: int = 1,
    max_sessions: int = 6,
    max_call_clients: int = 3,
    other_events: bool = True,
    surface: str = "daily-js",
) -> Strategy[list[Event]]:
    """Valid streams (whole captures) as lists of event dicts, in delivery order.

    Several dial-in and dial-out sessions interleave; each ends with ``*-stopped``, with
    ``*-error`` (sometimes followed by the other terminal event, L13) or not at all (the
    capture ended first, L18); some dial-outs are never answered. ``dialin-ready`` and
    ``dialout-error``/``-warning`` without ``sessionId`` (L12) appear, events come from one to
    ``max_call_clients`` call clients, and non-telephony events are mixed in. Within a
    session, sipCallId, destination, origin and provider never change.

    With ``surface="daily-python"`` each event is what daily-python hands its handler (see
    :func:`~.generate.event_strategy`), beside the ``action`` and ``callClientId`` it stands for.

    The checker finds nothing in any of them with the default options: no error, no warning.
    """
    if min_sessions < 1 or max_sessions < min_sessions:
        raise ValueError("need 1 <= min_sessions <= max_sessions (a capture needs a telephony event)")
    return plan_stream(min_sessions, max_sessions, max_call_clients, other_events, surface=surface).map(
        lambda built: [event for _, event in built[0]]
    )
