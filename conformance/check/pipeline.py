"""Checking a capture: the stages joined, a capture in and findings out.

Data flows one way: :mod:`.reading` reads lines → :mod:`.lines` checks each line on its
own (syntax, name, schema; in worker processes for a large file, :mod:`.parallel`) →
:mod:`.sessions` and :mod:`.webhooks` check sessions, in capture order → the caller
reports. Pure: no pytest, no argparse, no I/O beyond the capture it is handed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import IO, Any

from .. import rules
from ..findings import Finding, Severity
from ..options import Options
from .coverage import action_events, fold_paths
from .lines import check_lines
from .parallel import CaptureChanged, check_lines_parallel, plan_workers, stopped_by_change
from .ranges import RangeSessions, join
from .reading import ProgressStream, open_capture
from .records import Record, WebhookItem
from .sessions import SessionTracker
from .tally import CaptureSummary, Tally
from .webhooks import WebhookStream


def check_stream(stream: IO[bytes], summary: CaptureSummary, options: Options = Options()) -> Iterator[Finding]:
    """Check one capture stream, in this process; yield its findings in line order and fill
    in ``summary``.

    Findings of rules not enabled by ``options`` are neither yielded nor counted.
    """
    return _counted(_check(check_lines(stream, summary, options), summary, options), summary, options)


def check_file(
    path: str,
    summary: CaptureSummary,
    options: Options = Options(),
    progress: Callable[[int], Any] | None = None,
) -> Iterator[Finding]:
    """Check a capture file (``-`` for standard input); the same findings as :func:`check_stream`.

    A large plain file is checked with several processes (``options.jobs``, see
    :mod:`.parallel`). ``progress``, if given, is called now and then with the byte offset
    reached in the file. Raises :class:`~.reading.CaptureUnreadable` on the first
    ``next()`` when the file cannot be opened.
    """
    workers = plan_workers(path, options.jobs)
    if workers:
        lines = check_lines_parallel(path, summary, options, workers, progress=progress)
        yield from _counted(_check(lines, summary, options), summary, options)
        return
    stream = open_capture(path)
    try:
        source: Any = ProgressStream(stream, progress) if progress else stream
        yield from check_stream(source, summary, options)
    finally:
        if path != "-":
            stream.close()


def _check(
    items: Iterator[Finding | Record | WebhookItem | RangeSessions], summary: Tally, options: Options
) -> Iterator[Finding]:
    """The session stages: the line stage's records fed to the trackers, in capture order.

    ``summary`` is the tally the line stage fills in; it is complete when this ends.
    """
    tracker = SessionTracker(partial=options.partial, coverage=options.coverage)
    feed = tracker.feed
    webhooks = WebhookStream(options)
    list_ = list
    for item in items:
        if type(item) is list_:
            found = feed(item)
            if found:
                yield from found
        elif type(item) is tuple:  # a webhook item: checked whole, in time order
            yield from webhooks.feed(*item)
        elif type(item) is RangeSessions:  # a range whose sessions a worker checked
            try:
                yield from join(tracker, item)
            except CaptureChanged as exc:  # the range could not be read again
                yield stopped_by_change(item.offset + 1, exc)
                break
        else:
            yield item  # type: ignore[misc]
    yield from webhooks.finish()  # deliveries still held for ordering (L20)
    summary.sessions += tracker.sessions_seen
    summary.open_sessions += tracker.open_sessions()
    if options.coverage:
        summary.add(Tally(lifecycle_paths=fold_paths(tracker.ends, tracker.open_steps())))
    summary.add(webhooks.tally)
    if summary.telephony_events == 0 and not options.allow_empty:
        yield rules.NO_TELEPHONY_EVENTS.finding(
            0,
            f"no telephony event in {summary.lines:,} line(s) ({summary.other_events:,} other event(s)); "
            "a check that saw nothing cannot pass",
            hint="check that the recorder listens to the dialin-*/dialout-* events, or pass --allow-empty",
        )
    for action in options.require_actions:
        if not action_events(summary.events_by_action, action):
            yield rules.REQUIRED_ACTION_MISSING.finding(
                0,
                f"{action} never appears in this capture ({summary.telephony_events:,} telephony event(s)), "
                "and --require-actions lists it",
                action=action,
            )


def _counted(findings: Iterator[Finding], summary: Tally, options: Options) -> Iterator[Finding]:
    """Only the findings of enabled rules, with the severity ``options`` give their rule, counted
    by severity and by rule in ``summary``."""
    enabled = options.enabled_rules()
    overrides = options.severity_overrides()
    by_rule = summary.findings_by_rule
    for finding in findings:
        rule = finding.rule
        if rule in enabled:
            if overrides and rule in overrides:
                finding = dataclasses.replace(finding, severity=overrides[rule])
            by_rule[rule] = by_rule.get(rule, 0) + 1
            if finding.severity is Severity.ERROR:
                summary.errors += 1
            else:
                summary.warnings += 1
            yield finding
