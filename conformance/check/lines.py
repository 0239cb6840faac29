"""The line stage: each line of a capture checked on its own, its syntax, its name and its schema.

Nothing here looks at any other line, so this stage can run on byte ranges of one capture
in several processes at once (:mod:`.parallel`). Each line goes one of three ways:

* **the fast path** (:mod:`.fastpath`): a compact valid event, proved so in one pass;
* **the validity check**: any other line is parsed (:mod:`.syntax`), identified by its
  ``action`` (or, for a webhook delivery, its ``type``), and validated by jsonschema-rs;
* **exact findings** (:mod:`.explain`), only for the events that fail the validity check.

What the session check needs of a line travels on as a record (:mod:`.records`), in line
order with the line's findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

from .. import rules
from ..findings import Finding, describe_type
from ..options import Options
from ..schemas import event_schemas
from ..surfaces import is_telephony_family
from .explain import schema_findings, undocumented_findings, unknown_action_finding
from .fastpath import DECLINE_ALL, PREFIX, SESSIONLESS, fast_path
from .reading import read_lines
from .records import Record, WebhookItem, lost_record, lost_record_in_text, session_record
from .syntax import parse_line
from .tally import Tally


def check_lines(stream: IO[bytes], tally: Tally, options: Options) -> Iterator[Finding | Record | WebhookItem]:
    """Yield, in line order, each line's findings and then its record (if it has one).

    ``tally`` counts the lines as they are read, and is complete when the iterator is.
    """
    schemas = event_schemas()
    strict = options.strict
    by_action = tally.events_by_action
    no_action = other = unknown = 0
    proven: list[str] = []  # the action of each line the fast path proved, in this batch
    done = line = 0  # lines of whole batches read; the last line reached
    first = 1  # the first line of the batch being read (past `line` between batches)
    accept = (fast_path() or DECLINE_ALL).acceptor(proven)
    prefixed = len(PREFIX)
    tuple_ = tuple
    try:
        for item in read_lines(stream, tally, options.max_line_bytes):
            if type(item) is not tuple_:
                yield item  # type: ignore[misc]
                continue
            first, batch = item
            line = first - 1
            # One look at the whole batch spares most lines their own search for a backslash.
            escaped = b"".join(batch).find(b"\\") >= 0
            for raw in batch:
                line += 1
                proof = accept(raw, line, escaped)
                if proof is not None:  # a valid event, its record (or none) proved in one pass
                    if proof is not SESSIONLESS:
                        yield proof
                    continue
                event, findings = parse_line(line, raw, tally)
                if findings:
                    yield from findings
                if event is None:
                    # A broken line that claims to be a telephony event: a session whose start
                    # it was is not blamed for it.
                    if findings and raw[:prefixed] == PREFIX:
                        lost = lost_record_in_text(line, raw)
                        if lost is not None:
                            yield lost
                    continue
                action = event.get("action")
                if type(action) is not str:
                    if "action" not in event and _is_webhook(event):
                        yield (line, event)  # a WebhookItem
                        continue
                    no_action += 1
                    yield _missing_action(line, event)
                    sid = event.get("sessionId")
                    if type(sid) is str:
                        yield lost_record(line, event.get("callClientId"), sid)
                    continue
                es = schemas.get(action)
                if es is None:
                    if is_telephony_family(action):
                        unknown += 1
                        by_action[action] = by_action.get(action, 0) + 1
                        sid = event.get("sessionId")
                        yield unknown_action_finding(line, action, sid if isinstance(sid, str) else None)
                        if type(sid) is str:
                            yield lost_record(line, event.get("callClientId"), sid)
                    else:
                        other += 1  # a non-telephony event: counted, never flagged
                    continue
                action = es.action  # one string object per action: cheap to send and hash
                by_action[action] = by_action.get(action, 0) + 1
                if es.fast.is_valid(event):
                    if strict:
                        yield from undocumented_findings(line, event, es)
                    record = session_record(line, action, event, valid=True)
                else:
                    wrong = schema_findings(line, event, es)
                    yield from wrong
                    if strict:
                        yield from undocumented_findings(line, event, es)
                    record = session_record(line, action, event, {f.pointer for f in wrong if f.pointer})
                if record is not None:
                    yield record
            done += len(batch)
            first = line + 1
            _count_proven(proven, by_action)
    finally:
        # A batch's lines are counted as they are reached, so that the count stays exact when
        # the consumer stops early (read_lines counts the lines it does not hand on).
        tally.lines += done + line - first + 1
        _count_proven(proven, by_action)
        tally.rejected_lines += no_action
        tally.other_events += other
        tally.unknown_telephony_events += unknown


def _count_proven(proven: list[str], by_action: dict[str, int]) -> None:
    """Count the lines the fast path proved (``proven``, their actions) by action, and forget them."""
    for name, n in Counter(proven).items():
        by_action[name] = by_action.get(name, 0) + n
    proven.clear()


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
    return rules.MISSING_ACTION.finding(
        line,
        f"object {what}, so it cannot be identified as an event",
        pointer="/action" if "action" in event else "",
    )
