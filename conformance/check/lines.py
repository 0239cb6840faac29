"""The line stage: each line of a capture checked on its own, its syntax, its name and its schema.

Nothing here looks at any other line, so this stage can run on byte ranges of one capture
in several processes at once (:mod:`.parallel`). Each line goes one of three ways:

* **the fast path** (:mod:`.fastpath`): a compact valid event, proved so in one pass;
* **the validity check**: any other line is parsed (:mod:`.syntax`), identified by its
  ``action`` (a webhook delivery by its ``type``, a daily-python record by its ``handler``),
  and validated by jsonschema-rs;
* **exact findings** (:mod:`.explain`), only for the events that fail the validity check.

What the session check needs of a line travels on as a record (:mod:`.records`), in line
order with the line's findings.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO, Any

from .. import rules
from ..findings import Finding, describe_type, quoted
from ..options import Options
from ..schemas import daily_python_schemas, event_schemas
from ..surfaces import is_telephony_family, is_telephony_handler
from .coverage import count_event_fields, count_kept, count_proven
from .explain import CLIENT_NAMES, HANDLER_NAMES, schema_findings, undocumented_findings, unknown_name_finding
from .fastpath import DECLINE_ALL, PREFIX, SESSIONLESS, fast_path
from .locate import placed
from .reading import read_lines
from .records import (
    STRING_LIMIT,
    Record,
    WebhookItem,
    bound_strings,
    daily_python_client,
    daily_python_record,
    lost_record,
    lost_record_in_text,
    session_record,
)
from .syntax import parse_line
from .tally import Tally

#: How a recorded daily-python telephony callback begins, with the handler first.
_PYTHON_PREFIX = re.compile(rb'\{[ \t]*"handler"[ \t]*:[ \t]*"on_dial')



def check_lines(stream: IO[bytes], tally: Tally, options: Options) -> Iterator[Finding | Record | WebhookItem]:
    """Yield, in line order, each line's findings and then its record (if it has one).

    ``tally`` counts the lines as they are read, and is complete when the iterator is.
    """
    schemas = event_schemas()
    strict = options.strict
    by_action = tally.events_by_action
    no_action = other = unknown = client_events = 0
    proven: list[str] = []  # the action of each line the fast path proved, in this batch
    done = line = 0  # lines of whole batches read; the last line reached
    first = 1  # the first line of the batch being read (past `line` between batches)
    fast = fast_path() or DECLINE_ALL
    # With coverage, the fast path also keeps each proved line's values, counted per batch.
    coverage = options.coverage
    columns = options.columns
    values_of = fast.value_lists() if coverage else None
    present, null = tally.fields_present, tally.fields_null
    accept = fast.acceptor(proven, values_of, functools.partial(count_kept, fast.action_of, present))
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
                    if findings and (raw[:prefixed] == PREFIX or _PYTHON_PREFIX.match(raw)):
                        lost = lost_record_in_text(line, raw, daily_python=raw[:prefixed] != PREFIX)
                        if lost is not None:
                            yield lost
                    continue
                action = event.get("action")
                if type(action) is not str:
                    if "action" not in event and _is_webhook(event):
                        yield (line, event)  # a WebhookItem
                        continue
                    if "action" not in event and "handler" in event:
                        found = _daily_python_line(line, event, tally, strict, coverage)
                        yield from (_placed_items(raw, found) if columns else found)
                        continue
                    no_action += 1
                    yield _missing_action(line, event)
                    sid = event.get("sessionId")
                    if type(sid) is str:
                        yield lost_record(line, event.get("callClientId"), sid)
                    continue
                client_events += 1
                es = schemas.get(action)
                if es is None:
                    if is_telephony_family(action):
                        unknown += 1
                        tally.count_unknown(action)
                        sid = event.get("sessionId")
                        sid = sid if isinstance(sid, str) else None
                        yield from _placed(raw, [unknown_name_finding(line, action, CLIENT_NAMES, sid)], columns)
                        if type(sid) is str:
                            yield lost_record(line, event.get("callClientId"), sid)
                    else:
                        other += 1  # a non-telephony event: counted, never flagged
                    continue
                action = es.action  # one string object per action: cheap to send and hash
                by_action[action] = by_action.get(action, 0) + 1
                if coverage:
                    count_event_fields(action, event, present, null)
                if es.fast.is_valid(event):
                    if strict:
                        yield from _placed(raw, undocumented_findings(line, event, es), columns)
                    record = session_record(line, action, event, valid=True)
                else:
                    wrong = schema_findings(line, event, es)
                    yield from _placed(raw, wrong, columns)
                    if strict:
                        yield from _placed(raw, undocumented_findings(line, event, es), columns)
                    record = session_record(line, action, event, {f.pointer for f in wrong if f.pointer})
                if record is not None:
                    if len(raw) > STRING_LIMIT:  # only then can a value be over the limit
                        bound_strings(record)
                    yield record
            done += len(batch)
            first = line + 1
            client_events += _count_proven(proven, by_action)
            if values_of is not None:
                count_proven(values_of, fast.action_of, present)
    finally:
        # A batch's lines are counted as they are reached, so that the count stays exact when
        # the consumer stops early (read_lines counts the lines it does not hand on).
        tally.lines += done + line - first + 1
        client_events += _count_proven(proven, by_action)
        if values_of is not None:
            count_proven(values_of, fast.action_of, present)
        tally.rejected_lines += no_action
        tally.other_events += other
        tally.unknown_telephony_events += unknown
        _count_surface(tally, "daily-js", client_events)


def _placed_items(raw: bytes, items: Iterable[Finding | Record]) -> Iterator[Finding | Record]:
    """The items of one line, its findings with their field's columns (:func:`.locate.placed`)."""
    items = list(items)
    findings = [item for item in items if type(item) is Finding]
    if not findings:
        yield from items
        return
    placed_findings = iter(placed(raw, findings))
    for item in items:
        yield next(placed_findings) if type(item) is Finding else item


def _placed(raw: bytes, findings: Iterable[Finding], columns: bool) -> Iterable[Finding]:
    """The findings, with their field's columns when ``columns`` (:func:`.locate.placed`)."""
    return placed(raw, findings) if columns else findings


def _count_proven(proven: list[str], by_action: dict[str, int]) -> int:
    """Count the lines the fast path proved (``proven``, their actions) by action, and forget
    them; how many they were."""
    for name, n in Counter(proven).items():
        by_action[name] = by_action.get(name, 0) + n
    count = len(proven)
    proven.clear()
    return count


def _count_surface(tally: Tally, surface: str, n: int) -> None:
    if n:
        tally.events_by_surface[surface] = tally.events_by_surface.get(surface, 0) + n


def _daily_python_line(
    line: int, recorded: dict[str, Any], tally: Tally, strict: bool, coverage: bool
) -> Iterator[Finding | Record]:
    """A line recorded from a daily-python or pipecat callback (``schemas/daily-python-record.schema.json``):
    its handler's name, the line against its handler's schema, and its record; with
    ``coverage``, its ``data`` fields are counted under the handler's name."""
    handler = recorded["handler"]
    if type(handler) is not str:
        tally.rejected_lines += 1
        yield rules.MISSING_ACTION.finding(
            line,
            f'object has a "handler" that is {describe_type(handler)}, not a string, so it cannot be identified '
            "as a daily-python callback",
            pointer="/handler",
        )
        return
    _count_surface(tally, "daily-python", 1)
    data = recorded.get("data")
    sid = data.get("sessionId") if type(data) is dict else None
    sid = sid if type(sid) is str else None
    es = daily_python_schemas().get(handler)
    by_action = tally.events_by_action
    if es is None:
        if is_telephony_handler(handler):
            tally.unknown_telephony_events += 1
            tally.count_unknown(handler)
            yield unknown_name_finding(line, handler, HANDLER_NAMES, sid)
            if sid is not None:
                yield lost_record(line, daily_python_client(recorded.get("client")), sid)
        else:
            tally.other_events += 1  # another callback (on_participant_joined, …): counted, never flagged
        return
    handler = es.action  # one string object per handler
    by_action[handler] = by_action.get(handler, 0) + 1
    if coverage and type(data) is dict:
        count_event_fields(handler, data, tally.fields_present, tally.fields_null)
    wrong: list[Finding] = []
    if not es.fast.is_valid(recorded):
        wrong = schema_findings(line, recorded, es, sid)
        yield from wrong
    if strict:
        yield from undocumented_findings(line, recorded, es, sid)
    record = daily_python_record(line, handler, recorded, {f.pointer for f in wrong if f.pointer}, valid=not wrong)
    if record is not None:
        yield record


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
        what = 'has no "action" (a client event\'s name) and no "type" (a webhook delivery\'s)'
    elif "action" not in event and isinstance(event["type"], str):
        what = f'has no "action", and its "type" {quoted(event["type"])} is not a webhook type (family.event)'
    elif "action" not in event:
        what = f'has no "action" and a "type" that is {describe_type(event["type"])}, not a string'
    elif action is None:
        what = 'has "action": null'
    else:
        what = f'has an "action" that is {describe_type(action)}, not a string'
    return rules.MISSING_ACTION.finding(
        line,
        f"object {what}, so it cannot be identified as an event",
        pointer="/action" if "action" in event else "",
    )
