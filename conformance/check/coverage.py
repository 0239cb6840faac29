"""Coverage: what a capture exercised, beside what was wrong in it.

Three views, all counted while the capture is checked and kept in its tally (bounded: by the
documented fields and the lifecycle paths, never by the capture's length):

* **events by name**: every telephony action, webhook type and daily-python handler, with
  zeros for those never seen (:func:`action_counts`; the counts are the tally's own);
* **fields**: for each action, each field its schema documents, how often it was present,
  absent and ``null`` (``Options.coverage``: counting costs time on every event, so only a
  report that shows it asks for it). A valid compact event's values come from the fast path
  (:mod:`.fastpath`), counted a batch at a time; any other event's from its parsed object;
* **lifecycle paths**: how each call session went, from the steps it took (connected,
  answered) to how it ended (stopped, error) or that it was still open at the end of the
  capture; and the dial-out errors and warnings that belonged to no session. Counted by the
  session check as each session ends (:mod:`.sessions`), and folded into names here.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from ..schemas import daily_python_schemas, event_schemas
from ..surfaces import ACTION_OF_HANDLER, ACTIONS, HANDLER_METHODS, TYPE_OF, WEBHOOK_TYPES

#: Separates an action and a field in the tally's keys (``dialin-connected sipHeaders``).
FIELD_KEY = "{} {}"

#: The steps a session may take before it ends, in lifecycle order, by direction.
_STEPS = {"dial-in": ("connected",), "dial-out": ("connected", "answered")}
_ENDS = ("stopped", "error", "open")


def field_key(action: str, field: str) -> str:
    """The tally's key for one field of one action."""
    return FIELD_KEY.format(action, field)


@functools.cache
def documented_fields() -> dict[str, tuple[str, ...]]:
    """Per action, the top-level fields its schema documents (``action`` aside), sorted; per
    daily-python handler, the fields of ``data`` its profile documents."""
    fields = {action: tuple(sorted(es.documented - {"action"})) for action, es in event_schemas().items()}
    for handler, es in daily_python_schemas().items():
        fields[handler] = tuple(sorted(es.nested_documented.get("data", ())))  # on_dialin_ready: a string
    return fields


@functools.cache
def required_fields() -> dict[str, frozenset[str]]:
    """Per action, the fields its schema requires."""
    return {action: frozenset(es.schema.get("required", ())) for action, es in event_schemas().items()}


def count_event_fields(action: str, event: dict[str, Any], present: dict[str, int], null: dict[str, int]) -> None:
    """Count one event's documented fields of ``action`` as present (and not ``null``) or
    ``null``; absent ones are what the event count leaves over."""
    for name in documented_fields()[action]:
        if name in event:
            key = field_key(action, name)
            counts = null if event[name] is None else present
            counts[key] = counts.get(key, 0) + 1


@functools.cache
def _struct_columns(struct_fields: tuple[str, ...], action: str) -> tuple[tuple[str, int | None], ...]:
    """Per documented field of ``action``: its index among a fast-path struct's values, or
    ``None`` for a required field (always present in a valid event)."""
    required = required_fields()[action]
    return tuple(
        (name, None if name in required else struct_fields.index(name))
        for name in documented_fields()[action]
        if name in struct_fields
    )


def count_struct_values(
    action: str, struct_fields: tuple[str, ...], values: list[Any], present: dict[str, int]
) -> None:
    """Count the documented fields of the fast path's valid events of ``action``: ``values``
    holds their structs' values end to end (``None`` for an absent field; the fast path never
    accepts a ``null``), so each field's values are one slice, counted in C."""
    width = len(struct_fields)
    n = len(values) // width
    if not n:
        return
    for name, index in _struct_columns(struct_fields, action):
        count = n if index is None else n - _nones(values[index::width])
        if count:
            key = field_key(action, name)
            present[key] = present.get(key, 0) + count


def _nones(column: list[Any]) -> int:
    """How many values of ``column`` are ``None``: the falsy ones first (a fast truth test),
    then the Nones among those few, as comparing every value to None costs a rich comparison."""
    return list(itertools.filterfalse(None, column)).count(None)


def count_kept(action_of: Mapping[type, str], present: dict[str, int], kind: type, values: list[Any]) -> None:
    """Count the fields of one struct type's kept values (see :func:`count_proven`), and forget them."""
    count_struct_values(action_of[kind], kind.__struct_fields__, values, present)  # type: ignore[attr-defined]
    values.clear()


def count_proven(values_of: dict[type, list[Any]], action_of: Mapping[type, str], present: dict[str, int]) -> None:
    """Count the fields of the fast path's events kept in ``values_of`` (per struct type, see
    :meth:`.fastpath.FastPath.acceptor`), and forget them."""
    for kind, values in values_of.items():
        if values:
            count_kept(action_of, present, kind, values)


# --- lifecycle paths ----------------------------------------------------------------------
def path_name(direction: str, steps: Iterable[str], end: str) -> str:
    """``dial-out: connected → answered → stopped``; a session that took no step before it
    ended is ``dial-in: error``."""
    return f"{direction}: " + " → ".join([*steps, end])


@functools.cache
def all_paths() -> tuple[str, ...]:
    """Every lifecycle path's name, in a fixed order (the JSON report lists them all, zeros
    included): per direction, each subset of its steps in order, then each way to end; then
    the session-less dial-out error and warning."""
    names = []
    for direction, steps in _STEPS.items():
        for taken in itertools.product((False, True), repeat=len(steps)):
            chosen = [step for step, on in zip(steps, taken, strict=True) if on]
            names += [path_name(direction, chosen, end) for end in _ENDS]
    return (*names, *SESSIONLESS_PATHS.values())


#: The events that may belong to no session (no ``sessionId``, L12), and their path's name.
SESSIONLESS_PATHS = {
    "dialout-error": "dial-out: error without a session",
    "dialout-warning": "dial-out: warning without a session",
}


def _event(name: str) -> tuple[str, str]:
    """``(direction, what)`` of an action or daily-python handler: ``("dial-out", "answered")``."""
    action = ACTION_OF_HANDLER.get(name, name)
    family, _, what = action.partition("-")
    return ("dial-in" if family == "dialin" else "dial-out"), what


def fold_paths(
    ends: Mapping[tuple[Any, ...], int], open_sessions: Iterable[tuple[str, Iterable[Any]]]
) -> dict[str, int]:
    """Lifecycle path counts, by name, from the session check's counts of ended sessions
    (``(ending event, connected?, answered?)``: :attr:`.sessions.SessionTracker.ends`) and the
    sessions still open (``(direction, the keys of their step lines)``)."""
    out: dict[str, int] = {}

    def add(direction: str, seen: set[str], end: str, n: int) -> None:
        name = path_name(direction, [step for step in _STEPS[direction] if step in seen], end)
        out[name] = out.get(name, 0) + n

    for (action, connected, answered), n in ends.items():
        if n:
            direction, end = _event(action)
            seen = {step for step, on in (("connected", connected), ("answered", answered)) if on}
            add(direction, seen, end, n)
    for direction, taken in open_sessions:
        add(direction, {_event(step)[1] for step in taken if type(step) is str}, "open", 1)
    return out


def sessionless_paths(present: Mapping[str, int], events_by_action: Mapping[str, int]) -> dict[str, int]:
    """The session-less dial-out errors and warnings, daily-js and daily-python alike: those
    events less those with a ``sessionId`` (from the field counts, so no event pays for it twice)."""
    return {
        name: sum(
            events_by_action.get(event, 0) - present.get(field_key(event, "sessionId"), 0)
            for event in (action, HANDLER_METHODS[action])
        )
        for action, name in SESSIONLESS_PATHS.items()
    }


# --- events by name -----------------------------------------------------------------------
def action_events(events_by_action: Mapping[str, int], action: str) -> int:
    """The events of ``action`` under any surface's name for it (action, webhook type, handler)."""
    return sum(events_by_action.get(name, 0) for name in (action, TYPE_OF[action], HANDLER_METHODS[action]))


def action_counts(events_by_action: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Per surface, every event name with its count, zeros included: ``actions`` (daily-js),
    ``webhookTypes`` and ``handlers`` (daily-python); names outside the ten are the
    ``unknown`` ones (S204), by the name the capture gave."""
    known = {*ACTIONS, *WEBHOOK_TYPES, *HANDLER_METHODS.values()}
    return {
        "actions": {name: events_by_action.get(name, 0) for name in ACTIONS},
        "webhookTypes": {name: events_by_action.get(name, 0) for name in WEBHOOK_TYPES},
        "handlers": {name: events_by_action.get(name, 0) for name in HANDLER_METHODS.values()},
        "unknown": {name: n for name, n in sorted(events_by_action.items()) if name not in known},
    }


def field_counts(
    events_by_action: Mapping[str, int], present: Mapping[str, int], null: Mapping[str, int]
) -> dict[str, dict[str, dict[str, int]]]:
    """Per action (daily-js) and handler (daily-python), per documented field: ``{"present": …,
    "absent": …, "null": …}``, where present means present and not ``null``, and the three add
    up to the events of that name."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for action in (*ACTIONS, *HANDLER_METHODS.values()):
        total = events_by_action.get(action, 0)
        fields = {}
        for name in documented_fields()[action]:
            key = field_key(action, name)
            seen, nulls = present.get(key, 0), null.get(key, 0)
            fields[name] = {"present": seen, "absent": total - seen - nulls, "null": nulls}
        out[action] = fields
    return out
