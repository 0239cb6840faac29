"""How the reports show coverage (:mod:`conformance.check.coverage`): the JSON report's block,
the text summary's line and the step summary's table."""

from __future__ import annotations

from typing import Any

from ..check.coverage import (
    SESSIONLESS_PATHS,
    action_counts,
    action_events,
    all_paths,
    field_counts,
    sessionless_paths,
)
from ..check.tally import Tally
from ..surfaces import ACTIONS


def coverage_block(tally: Tally, fields: bool) -> dict[str, Any]:
    """The JSON report's ``coverage`` of one capture (``schemas/report.schema.json``): events
    by name with zeros, each documented field's present/absent/null counts (when ``fields``
    were counted) and every lifecycle path with its count."""
    block: dict[str, Any] = action_counts(tally.events_by_action)
    paths = {name: tally.lifecycle_paths.get(name, 0) for name in session_paths()}
    if fields:
        block["fields"] = field_counts(tally.events_by_action, tally.fields_present, tally.fields_null)
        # Told from the sessionId field's counts: without them, these paths are left out.
        paths.update(sessionless_paths(tally.fields_present, tally.events_by_action))
    block["lifecyclePaths"] = paths
    return block


def session_paths() -> list[str]:
    """The lifecycle paths of sessions (the session-less events aside)."""
    return [name for name in all_paths() if name not in SESSIONLESS_PATHS.values()]


def actions_seen(tally: Tally) -> list[str]:
    """The telephony actions a capture holds, by any surface's name for them."""
    return [action for action in ACTIONS if action_events(tally.events_by_action, action)]


def coverage_line(tally: Tally) -> str:
    """The text summary's line: the actions seen (and the ones never seen) and the lifecycle
    paths the sessions took."""
    seen = actions_seen(tally)
    never = [a for a in ACTIONS if a not in seen]
    missing = f" (never: {', '.join(never)})" if never and len(never) < len(ACTIONS) else ""
    line = f"Coverage: {len(seen)} of {len(ACTIONS)} telephony actions seen{missing}"
    if not tally.lifecycle_paths:  # not counted (a JSON report counts them) or no session
        return line + "."
    paths = session_paths()
    taken = [name for name in paths if tally.lifecycle_paths.get(name)]
    return line + f"; sessions took {len(taken)} of {len(paths)} lifecycle paths."


def coverage_markdown(tally: Tally) -> list[str]:
    """The step summary's coverage: one line, then the actions and the paths taken, as tables."""
    lines = [coverage_line(tally), "", "| action | events |", "| --- | ---: |"]
    for action in ACTIONS:
        lines.append(f"| {action} | {action_events(tally.events_by_action, action):,} |")
    taken = [(name, n) for name, n in tally.lifecycle_paths.items() if n]
    if taken:
        lines += ["", "| lifecycle path | sessions |", "| --- | ---: |"]
        lines += [f"| {name} | {n:,} |" for name, n in sorted(taken, key=lambda item: all_paths().index(item[0]))]
    return lines
