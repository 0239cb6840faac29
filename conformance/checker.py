"""The checking core: a capture in, findings out. Pure: no pytest, no argparse, no I/O
beyond the capture it is handed.

Data flows one way: :mod:`.capture` reads lines → :mod:`.lines` checks each line on its
own (syntax, action, schema; in worker processes for a large file, see :mod:`.parallel`)
→ :mod:`.lifecycle` and :mod:`.webhooks` check sessions, in capture order → the caller
reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from . import rules
from .capture import ProgressStream, open_capture
from .findings import Finding, Severity
from .lifecycle import RangeSessions, SessionTracker
from .lines import LineTally, Record, check_lines
from .options import Options
from .parallel import CaptureChanged, check_lines_parallel, plan_workers, stopped_by_change
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
    """Check one capture stream, in this process; yield its findings in line order and fill
    in ``summary``.

    Findings of rules not enabled by ``options`` are neither yielded nor counted.
    """
    tally = LineTally()
    return _counted(_check(check_lines(stream, tally, options), tally, summary, options), summary, options)


def _check(
    lines: Iterator[Finding | Record | RangeSessions], tally: LineTally, summary: CaptureSummary, options: Options
) -> Iterator[Finding]:
    """The lifecycle stage: feed the line stage's records to the trackers, in capture order."""
    tracker = SessionTracker(partial=options.partial)
    feed = tracker.feed
    webhooks = WebhookStream(options)  # webhook deliveries: identified by `type`, see conformance/webhooks.py
    list_ = list
    for item in lines:
        if type(item) is not list_:
            if type(item) is RangeSessions:  # a range whose sessions a worker checked (.parallel)
                try:
                    yield from tracker.adopt(item)
                except CaptureChanged as exc:  # the range could not be read again
                    yield stopped_by_change(item.offset + 1, exc)
                    break
            else:
                yield item  # type: ignore[misc]
        elif len(item) == 2:  # [line, delivery]: a webhook delivery, checked whole in time order
            yield from webhooks.feed(item[0], item[1])
        else:
            found = feed(item)
            if found:
                yield from found
    yield from webhooks.finish()  # lifecycle of deliveries still held for ordering (L20)
    schemas = event_schemas()
    telephony = sum(n for a, n in tally.by_action.items() if a in schemas)
    summary.lines = tally.lines
    summary.blank_lines = tally.blank
    summary.rejected_lines = tally.rejected
    summary.telephony_events = telephony
    summary.other_events = tally.other
    summary.unknown_telephony_events = tally.unknown
    summary.events_by_action = tally.by_action
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
                f"no telephony event in {tally.lines:,} line(s) ({tally.other:,} other event(s)); "
                "a check that saw nothing cannot pass"
            ),
            hint="check that the recorder listens to the dialin-*/dialout-* events, or pass --allow-empty",
        )


def _counted(findings: Iterator[Finding], summary: CaptureSummary, options: Options) -> Iterator[Finding]:
    """Only the findings of enabled rules, counted by severity in ``summary``."""
    enabled = options.enabled_rules()
    for finding in findings:
        if finding.rule in enabled:
            if finding.severity is Severity.ERROR:
                summary.errors += 1
            else:
                summary.warnings += 1
            yield finding


def check_file(
    path: str,
    summary: CaptureSummary,
    options: Options = Options(),
    progress: Callable[[int], Any] | None = None,
) -> Iterator[Finding]:
    """Check a capture file (``-`` for standard input); the same findings as :func:`check_stream`.

    A large plain file is checked with several processes (``options.jobs``, see
    :mod:`.parallel`). ``progress``, if given, is called now and then with the byte offset
    reached in the file. Raises :class:`~conformance.capture.CaptureUnreadable` on the first
    ``next()`` when the file cannot be opened.
    """
    workers = plan_workers(path, options.jobs)
    if workers:
        tally = LineTally()
        lines = check_lines_parallel(path, tally, options, workers, progress=progress)
        yield from _counted(_check(lines, tally, summary, options), summary, options)
        return
    stream = open_capture(path)
    try:
        source: Any = ProgressStream(stream, progress) if progress else stream
        yield from check_stream(source, summary, options)
    finally:
        if path != "-":
            stream.close()
