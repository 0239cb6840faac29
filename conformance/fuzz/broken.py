"""Broken input: mutators that each break one rule, registered against that rule.

An event mutator (:func:`breaks_event`) gets a valid event and breaks one field or its name;
a stream mutator (:func:`breaks_stream`) gets a valid stream whose first session has the
shape it needs, and breaks that session's lifecycle. Either returns a :class:`Broken`
labelled with its rule, and the rest stays valid, so the checker fails on exactly that rule
(``tests/fuzz/test_strategies.py`` holds every mutator to it). The rules that can be broken
are the registries' keys: :data:`BROKEN_EVENT_RULES`, :data:`BROKEN_STREAM_RULES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from ..schemas import event_schemas, python_pattern
from ..surfaces import ACTIONS, HANDLER_METHODS, IDENTITY_FIELDS
from .generate import def_value, event_fields, event_strategy, field_schema, resolved
from .streams import SHAPES, PlannedSession, plan_stream

Event = dict[str, Any]
Strategy = st.SearchStrategy


@dataclass(frozen=True)
class Broken:
    """Events that break exactly one rule, labelled with that rule.

    Arguments:
        rule: the rule id the events violate (``S201``, ``L303`` …, see ``conformance.rules``).
        events: the events in delivery order (one for :func:`broken_events`).
        description: what was broken, in words (``"dialin-stopped delivered twice"``).
    """

    rule: str
    events: list[Event]
    description: str = field(default="")


@dataclass
class Victim:
    """The session a stream mutator breaks, in the stream it breaks it in."""

    session: PlannedSession
    stream: list[Event]  # the whole stream, to change in place
    at: list[int]  # where the session's events are in it
    events: list[Event]  # the session's events, in order
    surface: str  # whose shapes the events have

    @property
    def short_id(self) -> str:
        return self.session.session_id[:8]


#: ``mutate(draw, action, event, surface) -> Broken``: breaks a valid event of ``action``,
#: generated for ``surface``.
EventMutator = Callable[[st.DrawFn, str, Event, str], Broken]
#: ``mutate(draw, victim) -> Broken``: breaks the victim session's lifecycle.
StreamMutator = Callable[[st.DrawFn, Victim], Broken]

_EVENT_MUTATORS: dict[str, EventMutator] = {}
_STREAM_MUTATORS: dict[str, tuple[str, StreamMutator]] = {}


def breaks_event(rule: str) -> Callable[[EventMutator], EventMutator]:
    """Register an event mutator as the one that breaks ``rule``."""

    def register(mutate: EventMutator) -> EventMutator:
        _EVENT_MUTATORS[rule] = mutate
        return mutate

    return register


def breaks_stream(rule: str, shape: str) -> Callable[[StreamMutator], StreamMutator]:
    """Register a stream mutator as the one that breaks ``rule``, given a victim session of
    ``shape`` (one of :data:`~.streams.SHAPES`)."""

    def register(mutate: StreamMutator) -> StreamMutator:
        _STREAM_MUTATORS[rule] = (shape, mutate)
        return mutate

    return register


# --- events ------------------------------------------------------------------------------
_OTHER_TYPES: dict[str, Strategy[Any]] = {
    "string": st.one_of(
        st.integers(-(2**31), 2**31),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
        st.lists(st.text(max_size=5), max_size=2),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    ),
    "object": st.one_of(
        st.text(max_size=20),
        st.integers(-(2**31), 2**31),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
    ),
}

# Realistic mistakes: a number without '+', a tel: URI, a URI with no scheme or with a space.
_NOT_AN_ADDRESS = ("12098888888", "tel:+12098888888", "+0123456", "room-name@sip.daily.co", "sip:", "sip:a b@host", "")
_NOT_AN_ERROR_TYPE = ("failed", "START-FAILED", "start_failed", "timeout", "")
_ACTION_TYPOS = (
    "dialin_connected",
    "dialout-answerd",
    "dialin-connect",
    "dial-in-ready",
    "dialout-ringing",
    "DialIn-Stopped",
    "dialout.error",
)


def _typed_fields(action: str, surface: str) -> list[str]:
    """Fields of ``action`` with a declared JSON type (directly, or every ``anyOf`` branch)."""
    out = []
    for name in event_fields(action, surface)[0]:
        schema, base, _ = field_schema(action, name, surface)
        branches = [resolved(b, base)[0] for b in schema.get("anyOf", [])] or [schema]
        if name != "action" and all(isinstance(b.get("type"), str) for b in branches):
            out.append(name)
    return out


def _valued_fields(action: str, surface: str) -> list[str]:
    """Fields of ``action`` whose strings are constrained (a pattern, an enum), not ``action``."""
    out = []
    for name in event_fields(action, surface)[0]:
        schema, _, _ = field_schema(action, name, surface)
        if name != "action" and ("enum" in schema or "pattern" in schema or "anyOf" in schema):
            out.append(name)
    return out


def _with(
    draw: st.DrawFn, action: str, event: Event, surface: str, fields: Callable[[str, str], list[str]]
) -> tuple[str, Event, list[str]]:
    """``action`` and ``event`` if ``action`` has ``fields`` to break, else another action that
    has, with a fresh event of it."""
    if not fields(action, surface):
        action = draw(st.sampled_from([a for a in ACTIONS if fields(a, surface)]))
        event = draw(event_strategy(action, surface))
    return action, event, fields(action, surface)


@breaks_event("C109")
def _no_action(draw: st.DrawFn, action: str, event: Event, surface: str) -> Broken:
    how = draw(st.sampled_from(("absent", "null", "number")))
    if how == "absent":
        del event["action"]
    else:
        event["action"] = None if how == "null" else 7
    return Broken("C109", [event], f"{action} with its action {how}")


@breaks_event("S201")
def _required_field_missing(draw: st.DrawFn, action: str, event: Event, surface: str) -> Broken:
    action, event, required = _with(draw, action, event, surface, lambda a, s: event_fields(a, s)[1])
    name = draw(st.sampled_from(required))
    del event[name]
    return Broken("S201", [event], f"{action} without its required {name}")


@breaks_event("S202")
def _wrong_type(draw: st.DrawFn, action: str, event: Event, surface: str) -> Broken:
    action, event, typed = _with(draw, action, event, surface, _typed_fields)
    name = draw(st.sampled_from(typed))
    schema, _, _ = field_schema(action, name, surface)
    kind = "string" if "anyOf" in schema else schema["type"]
    event[name] = draw(_OTHER_TYPES[kind])
    return Broken("S202", [event], f"{action}.{name} is not {'an' if kind == 'object' else 'a'} {kind}")


@breaks_event("S203")
def _invalid_value(draw: st.DrawFn, action: str, event: Event, surface: str) -> Broken:
    action, event, valued = _with(draw, action, event, surface, _valued_fields)
    name = draw(st.sampled_from(valued))
    schema, base, _ = field_schema(action, name, surface)
    if "enum" in schema:
        bad = draw(st.sampled_from([v for v in _NOT_AN_ERROR_TYPE if v not in schema["enum"]]))
    else:
        branches = [resolved(b, base)[0] for b in schema.get("anyOf", [schema])]
        patterns = [re.compile(python_pattern(b["pattern"])) for b in branches]
        bad = draw(
            st.one_of(st.sampled_from(_NOT_AN_ADDRESS), st.text(max_size=12)).filter(
                lambda v: not any(p.search(v) for p in patterns)
            )
        )
    event[name] = bad
    return Broken("S203", [event], f"{action}.{name} is {bad!r}, which its schema does not allow")


@breaks_event("S204")
def _misspelt_action(draw: st.DrawFn, action: str, event: Event, surface: str) -> Broken:
    typos: tuple[str, ...] = _ACTION_TYPOS
    if surface == "daily-python":  # a typo that still names a handler (dialin_connected) is none there
        typos = tuple(t for t in typos if "on_" + t.replace("-", "_") not in HANDLER_METHODS.values())
    typo = draw(st.sampled_from(typos))
    event["action"] = typo
    return Broken("S204", [event], f"{action} sent as {typo!r}, which is not a telephony action")


# --- streams -----------------------------------------------------------------------------
def _again(event: Event) -> Event:
    """The same event delivered again (a copy, so that the two stay apart)."""
    return {**event}


@breaks_stream("L301", shape="answered")
def _answered_before_connected(draw: st.DrawFn, victim: Victim) -> Broken:
    out, at, evs = victim.stream, victim.at, victim.events
    connected = at[evs.index(next(e for e in evs if e["action"] == "dialout-connected"))]
    answered = at[evs.index(next(e for e in evs if e["action"] == "dialout-answered"))]
    if draw(st.booleans()):
        del out[connected]
        what = "dialout-connected lost"
    else:
        moved = out.pop(answered)
        out.insert(connected, moved)
        what = "dialout-answered delivered before dialout-connected"
    return Broken("L301", out, f"session {victim.short_id}…: {what}")


@breaks_stream("L302", shape="ends-stopped")
def _start_lost(draw: st.DrawFn, victim: Victim) -> Broken:
    # Only the session's final dialin/dialout-stopped remains.
    for i in reversed(victim.at[:-1]):
        del victim.stream[i]
    last = victim.events[-1]["action"]
    return Broken("L302", victim.stream, f"session {victim.short_id}…: {last} with its earlier events lost")


@breaks_stream("L303", shape="has-middle")
def _event_after_end(draw: st.DrawFn, victim: Victim) -> Broken:
    out, at, evs = victim.stream, victim.at, victim.events
    how = draw(st.sampled_from(("terminal twice", "late", "duplicate late")))
    first_end = next(k for k, e in enumerate(evs) if e["action"].endswith(("-stopped", "-error")))
    after = draw(st.integers(at[-1] + 1, len(out)))  # any position after the session's last event
    if how == "terminal twice":
        out.insert(after, _again(evs[-1]))
        what = f"{evs[-1]['action']} delivered twice"
    elif how == "late":
        k = draw(st.integers(1, first_end - 1))  # a middle event (the shape guarantees one)
        moved = out.pop(at[k])
        out.insert(after - 1, moved)
        what = f"{moved['action']} delivered after the session ended"
    else:
        k = draw(st.integers(0, first_end - 1))
        out.insert(after, _again(evs[k]))
        what = f"{evs[k]['action']} delivered again after the session ended"
    return Broken("L303", out, f"session {victim.short_id}…: {what}")


@breaks_stream("L304", shape="connected")
def _both_directions(draw: st.DrawFn, victim: Victim) -> Broken:
    session = victim.session
    other = "dialout" if session.direction == "in" else "dialin"
    action = f"{other}-{draw(st.sampled_from(('connected', 'warning', 'error', 'stopped')))}"
    intruder = draw(event_strategy(action, victim.surface))
    intruder["callClientId"] = session.client
    intruder["sessionId"] = session.session_id
    for name in IDENTITY_FIELDS:
        if name in intruder and name in session.identity:
            intruder[name] = session.identity[name]  # only the direction is wrong
    victim.stream.insert(draw(st.integers(victim.at[0] + 1, len(victim.stream))), intruder)
    return Broken("L304", victim.stream, f"session {victim.short_id}… is dial-{session.direction} but gets {action}")


@breaks_stream("L305", shape="two-events")
def _identity_changed(draw: st.DrawFn, victim: Victim) -> Broken:
    evs = victim.events
    target = evs[1]  # at or before the session's first terminal event: still open
    both = [n for n in IDENTITY_FIELDS if {n} <= _declared(evs[0]["action"]) & _declared(target["action"])]
    names = [n for n in both if evs[0].get(n) is not None]
    values = {name: def_value("address" if name in ("destination", "origin") else name) for name in both}
    if not names:  # daily-python promises no identity field: the session's first event brings one
        name = draw(st.sampled_from(both))
        evs[0][name] = draw(values[name])
        names = [name]
    name = draw(st.sampled_from(names))
    old = evs[0][name]
    new = draw(values[name].filter(lambda v: v != old))
    victim.stream[victim.at[1]] = {**target, name: new}
    what = f"{name} changes from {old!r} to {new!r} at {target['action']}"
    return Broken("L305", victim.stream, f"session {victim.short_id}…: {what}")


def _declared(action: str) -> frozenset[str]:
    return event_schemas()[action].documented


@breaks_stream("L306", shape="connected")
def _step_repeated(draw: st.DrawFn, victim: Victim) -> Broken:
    evs = victim.events
    steps = ("dialin-connected", "dialout-connected", "dialout-answered")
    once = [k for k, e in enumerate(evs) if e["action"] in steps]
    k = draw(st.sampled_from(once))
    victim.stream.insert(victim.at[k] + 1, _again(evs[k]))
    return Broken("L306", victim.stream, f"session {victim.short_id}…: {evs[k]['action']} delivered twice")


#: The rules a single broken event violates (checked as a one-line capture under ``--partial``).
BROKEN_EVENT_RULES: tuple[str, ...] = tuple(_EVENT_MUTATORS)
#: The rules a broken stream violates (checked with the default options); L301 and L302 are warnings.
BROKEN_STREAM_RULES: tuple[str, ...] = tuple(_STREAM_MUTATORS)


@st.composite
def _broken_event(draw: st.DrawFn, rule: str, surface: str) -> Broken:
    action = draw(st.sampled_from(ACTIONS))
    return _EVENT_MUTATORS[rule](draw, action, draw(event_strategy(action, surface)), surface)


@st.composite
def _broken_stream(draw: st.DrawFn, rule: str, surface: str) -> Broken:
    shape, mutate = _STREAM_MUTATORS[rule]
    plan, sessions = draw(plan_stream(1, 4, 2, True, victim=SHAPES[shape], surface=surface))
    at = [i for i, (s, _) in enumerate(plan) if s == 0]  # where the victim's events are
    victim = Victim(sessions[0], [e for _, e in plan], at, [plan[i][1] for i in at], surface)
    return mutate(draw, victim)


def broken_events(rule: str | None = None, surface: str = "daily-js") -> Strategy[Broken]:
    """Single events that each break one rule, as :class:`Broken` values.

    ``C109`` no string ``action``; ``S201`` a required field missing; ``S202`` a field of the
    wrong JSON type; ``S203`` a value no source allows (a number without ``+``, an unknown
    ``dialin-error.type``); ``S204`` a misspelt telephony action. ``rule`` picks one of
    :data:`BROKEN_EVENT_RULES`; by default any. Checked as a one-line capture under
    ``--partial``, each fails on exactly its rule. ``surface="daily-python"`` breaks what
    daily-python hands a handler (see :func:`~.strategies.events`).
    """
    if rule is None:
        return st.sampled_from(BROKEN_EVENT_RULES).flatmap(lambda r: _broken_event(r, surface))
    if rule not in _EVENT_MUTATORS:
        raise ValueError(f"broken_events cannot break {rule}; it breaks {', '.join(BROKEN_EVENT_RULES)}")
    return _broken_event(rule, surface)


def broken_streams(rule: str | None = None, surface: str = "daily-js") -> Strategy[Broken]:
    """Streams that break one lifecycle rule, as :class:`Broken` values.

    Most are delivery faults: the same event delivered twice (``L306`` for a second
    connected/answered, ``L303`` for a second stop), events out of order (answered before
    connected: ``L301``; an event after the session's end: ``L303``), a lost start
    (``L302``); and a session id used in both directions (``L304``) or a call whose
    sipCallId/destination/origin/provider changes (``L305``). The rest of the stream is
    valid, so the checker (default options) finds exactly the labelled rule. ``L301`` and
    ``L302`` are warnings (a client that joined mid-call can see them); the others are
    errors. ``surface`` as for :func:`broken_events`.
    """
    if rule is None:
        return st.sampled_from(BROKEN_STREAM_RULES).flatmap(lambda r: _broken_stream(r, surface))
    if rule not in _STREAM_MUTATORS:
        raise ValueError(f"broken_streams cannot break {rule}; it breaks {', '.join(BROKEN_STREAM_RULES)}")
    return _broken_stream(rule, surface)
