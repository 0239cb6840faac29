"""The checking core: a capture stream in, findings out. Pure: no pytest, no argparse, no I/O
beyond the stream it is handed.

Data flows one way: :mod:`.capture` reads lines → :mod:`.events` checks each event against
its schema → :mod:`.lifecycle` checks sessions → the caller reports. The hot loop is
written out here, once, because a capture can hold millions of events: the common valid
event costs one orjson parse, one jsonschema-rs ``is_valid`` call and one dictionary look-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from . import rules
from .capture import LineCounts, open_capture, read_capture
from .events import is_telephony_family, schema_findings, undocumented_findings, unknown_action_finding
from .findings import Finding, Severity, describe_type
from .lifecycle import SessionTracker
from .options import Options
from .schemas import event_schemas
from .webhooks import WebhookStream


@dataclass
class CaptureSummary:
    """What one capture held and what was found in it. ``lines`` accounts for every line:
    ``lines == blank_lines + rejected_lines + events``."""

    path: str
    lines: int = 0
    blank_lines: int = 0
    rejected_lines: int = 0
    telephony_events: int = 0
    other_events: int = 0
    unknown_telephony_events: int = 0
    events_by_action: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    open_sessions: int = 0
    errors: int = 0
    warnings: int = 0

    @property
    def events(self) -> int:
        return self.telephony_events + self.other_events + self.unknown_telephony_events

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "lines": self.lines,
            "blankLines": self.blank_lines,
            "rejectedLines": self.rejected_lines,
            "events": self.events,
            "telephonyEvents": self.telephony_events,
            "otherEvents": self.other_events,
            "unknownTelephonyEvents": self.unknown_telephony_events,
            "eventsByAction": dict(sorted(self.events_by_action.items())),
            "sessions": self.sessions,
            "openSessions": self.open_sessions,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def check_stream(stream: IO[bytes], summary: CaptureSummary, options: Options = Options()) -> Iterator[Finding]:
    """Check one capture stream; yield its findings in line order and fill in ``summary``.

    Findings of rules not enabled by ``options`` are neither yielded nor counted.
    """
    enabled = options.enabled_rules()
    for finding in _check(stream, summary, options):
        if finding.rule in enabled:
            if finding.severity is Severity.ERROR:
                summary.errors += 1
            else:
                summary.warnings += 1
            yield finding


def _check(stream: IO[bytes], summary: CaptureSummary, options: Options) -> Iterator[Finding]:
    schemas = event_schemas()
    tracker = SessionTracker(partial=options.partial)
    feed = tracker.feed
    webhooks = WebhookStream(options)  # webhook deliveries: identified by `type`, see conformance/webhooks.py
    strict = options.strict
    counts = LineCounts()
    by_action: dict[str, int] = {}
    no_action = other = unknown = 0
    tuple_ = tuple
    for item in read_capture(stream, counts, options.max_line_bytes):
        if type(item) is not tuple_:
            yield item  # type: ignore[misc]
            continue
        line, event = item
        action = event.get("action")
        if type(action) is not str:
            # A Daily webhook delivery names itself in `type`, not `action` (issue 5).
            if "action" not in event and _is_webhook(event):
                yield from webhooks.feed(line, event)
                continue
            no_action += 1
            yield _missing_action(line, event)
            continue
        es = schemas.get(action)
        if es is None:
            if is_telephony_family(action):
                unknown += 1
                by_action[action] = by_action.get(action, 0) + 1
                sid = event.get("sessionId")
                yield unknown_action_finding(line, action, sid if isinstance(sid, str) else None)
            else:
                other += 1  # a non-telephony event: counted, never flagged
            continue
        by_action[action] = by_action.get(action, 0) + 1
        if not es.fast.is_valid(event):
            yield from schema_findings(line, event, es)
        if strict:
            yield from undocumented_findings(line, event, es)
        lifecycle = feed(line, action, event)
        if lifecycle:
            yield from lifecycle
    yield from webhooks.finish()  # lifecycle of deliveries still held for ordering (L20)
    telephony = sum(n for a, n in by_action.items() if a in schemas)
    summary.lines = counts.lines
    summary.blank_lines = counts.blank
    summary.rejected_lines = counts.rejected + no_action
    summary.telephony_events = telephony
    summary.other_events = other
    summary.unknown_telephony_events = unknown
    summary.events_by_action = by_action
    summary.sessions = tracker.sessions_seen
    summary.open_sessions = tracker.open_sessions()
    webhooks.add_to(summary)
    telephony += webhooks.telephony_events
    if telephony == 0 and not options.allow_empty:
        yield Finding(
            line=0,
            rule=rules.NO_TELEPHONY_EVENTS.id,
            severity=rules.NO_TELEPHONY_EVENTS.severity,
            message=(
                f"no telephony event in {counts.lines:,} line(s) ({other:,} other event(s)); "
                "a check that saw nothing cannot pass"
            ),
            hint="check that the recorder listens to the dialin-*/dialout-* events, or pass --allow-empty",
        )


def _is_webhook(event: dict[str, Any]) -> bool:
    """A webhook delivery by its shape: a ``type`` of the form ``family.event`` or a ``payload``.

    A bare string ``type`` is not enough: client events carry one too (``dialin-error``'s
    ``"start-failed"``), so a client event that lost its ``action`` must stay C109.
    """
    kind = event.get("type")
    return type(kind) is str and ("." in kind or "payload" in event)


def _missing_action(line: int, event: dict[str, Any]) -> Finding:
    action = event.get("action")
    if "action" not in event and "type" not in event:
        what = "has no 'action' (a client event's name) and no 'type' (a webhook delivery's)"
    elif "action" not in event and isinstance(event["type"], str):
        what = f"has no 'action', and its 'type' {event['type']!r} is not a webhook type (family.event)"
    elif "action" not in event:
        what = f"has no 'action' and a 'type' that is {describe_type(event['type'])}, not a string"
    elif action is None:
        what = "has 'action': null"
    else:
        what = f"has an 'action' that is {describe_type(action)}, not a string"
    return Finding(
        line=line,
        rule=rules.MISSING_ACTION.id,
        severity=rules.MISSING_ACTION.severity,
        message=f"object {what}, so it cannot be identified as an event",
        pointer="/action" if "action" in event else "",
    )


def check_file(path: str, summary: CaptureSummary, options: Options = Options(), wrap: Any = None) -> Iterator[Finding]:
    """:func:`check_stream` over a capture file (``-`` for standard input), closed at the end.

    Raises :class:`~conformance.capture.CaptureUnreadable` on the first ``next()`` when the
    file cannot be opened. ``wrap``, if given, wraps the opened stream (progress reporting).
    """
    stream = open_capture(path)
    try:
        yield from check_stream(wrap(stream) if wrap else stream, summary, options)
    finally:
        if path != "-":
            stream.close()
