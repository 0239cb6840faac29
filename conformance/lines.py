"""Checking each line of a capture on its own: its syntax, its ``action`` and its schema.

The second stage of the pipeline (capture → **lines** → lifecycle → report). Nothing here
looks at any other line, so this stage can run on pieces of one capture in several
processes at once (:mod:`.parallel`). What the lifecycle stage needs from a line is handed
on as a small *record*, a flat list of JSON values that a worker can send back cheaply:

* ``[line, action, callClientId, sessionId, sipCallId, destination, origin, provider]`` for
  a client event of a session (:func:`~conformance.lifecycle.session_record`);
* ``[line, delivery]`` for a webhook delivery, which the webhook stage checks whole,
  because it orders deliveries by their timestamps (:mod:`.webhooks`);
* ``[line, None, None, sessionId, ...]`` for a line that names a session id but cannot be
  checked as its event (:func:`~conformance.lifecycle.lost_record`).

The hot loop is written out once, here, because a capture can hold millions of events.
The common line, a compact valid event, costs one msgspec decode into a struct compiled
from its schema and a re-encode to prove it repeats no key (:mod:`.fastpath`); any other
line is parsed by orjson (:func:`~conformance.capture.parse_line`) and validated by
jsonschema-rs, and only an invalid event pays for jsonschema's exact findings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from . import rules
from .capture import LineCounts, parse_line, read_lines
from .events import is_telephony_family, schema_findings, undocumented_findings, unknown_action_finding
from .fastpath import DECLINE_ALL, PREFIX, RECORD_FIELDS, fast_path, remember_match
from .findings import Finding, describe_type
from .lifecycle import lost_record, record_keys, session_record
from .options import Options
from .schemas import event_schemas

#: A record for the lifecycle stage (see the module docstring).
Record = list[Any]


@dataclass
class LineTally:
    """How the lines of a capture (or of a piece of one) were accounted for.

    ``lines == blank + rejected + other + unknown + sum(by_action.values())`` for client
    events; webhook deliveries are counted by the webhook stage, which sees them whole.
    """

    lines: int = 0
    blank: int = 0
    rejected: int = 0  # unparseable lines and objects that cannot be identified; each has a finding
    other: int = 0  # non-telephony events (participant-joined, …): counted, never flagged
    unknown: int = 0  # dialin*/dialout* actions that are not one of the ten (S204)
    by_action: dict[str, int] = field(default_factory=dict)

    def add(self, more: LineTally) -> None:
        """Add the tally of a later piece of the same capture."""
        self.lines += more.lines
        self.blank += more.blank
        self.rejected += more.rejected
        self.other += more.other
        self.unknown += more.unknown
        for action, n in more.by_action.items():
            self.by_action[action] = self.by_action.get(action, 0) + n


def check_lines(stream: IO[bytes], tally: LineTally, options: Options) -> Iterator[Finding | Record]:
    """Yield, in line order, each line's findings and then its record (if it has one).

    ``tally`` is filled in as lines are read, and is complete when the iterator is.
    """
    schemas = event_schemas()
    strict = options.strict
    counts = LineCounts()
    by_action = tally.by_action
    no_action = other = unknown = 0
    kinds: list[type] = []  # the struct type of each line the fast path proved, in this batch
    proven = kinds.append
    done = line = 0  # lines of whole batches read; the last line reached
    first = 1  # the first line of the batch being read (past `line` between batches)
    tuple_ = tuple
    record_of = session_record
    keys = record_keys()
    fast = fast_path() or DECLINE_ALL
    decode, declined, action_of, values_of = fast.decode, fast.errors, fast.action_of, fast.values
    encode_into, patterned = fast.encode_into, fast.patterned
    prefixed, width = len(PREFIX), len(RECORD_FIELDS)
    buffer = bytearray()  # each line is re-encoded here: no allocation per line (one per check: threads)
    try:
        for item in read_lines(stream, counts, options.max_line_bytes):
            if type(item) is not tuple_:
                yield item  # type: ignore[misc]
                continue
            first, batch = item
            line = first - 1
            # Few lines hold a backslash, and one look at the whole batch (at memchr's speed)
            # spares most batches a call per line.
            escaped = b"".join(batch).find(b"\\") >= 0
            for raw in batch:
                line += 1
                if raw[:prefixed] == PREFIX:  # a slice costs less than startswith's argument parsing
                    # The fast path, FastPath.accept written out (conformance/fastpath.py): a
                    # valid event, proved so in one pass, or declined, and then checked below
                    # as if it never ran.
                    try:
                        struct = decode(raw)
                    except declined:
                        struct = None
                    if struct is not None:
                        kind = type(struct)
                        encode_into(struct, buffer)
                        size = len(buffer)
                        # A re-encoding is never longer than the line it came from (fastpath),
                        # so one as long as the line proves no trailing white space: most
                        # lines are spared the stripped copy.
                        if (size != len(raw) and size != len(raw.rstrip())) or (escaped and raw.find(b"\\") >= 0):
                            struct = None
                        else:
                            values = values_of(struct)
                            if kind in patterned:
                                check = patterned[kind]
                                matched = check[0](values)
                                if matched not in check[2] and not remember_match(matched, check):
                                    struct = None
                    if struct is not None:
                        proven(kind)  # counted by action after the batch, in C
                        if values[1] is not None:  # a sessionId: an event of a session
                            yield [line, action_of[kind], *values[:width]]  # the record: RECORD_FIELDS come first
                        continue
                event, findings = parse_line(line, raw, counts)
                if findings:
                    yield from findings
                if event is None:
                    # A broken line that claims to be a telephony event: a session whose start
                    # it was is not blamed for it.
                    if findings and raw[:prefixed] == PREFIX:
                        named = _SESSION_ID.search(raw)
                        if named is not None:
                            client = _CLIENT.search(raw)
                            yield lost_record(
                                line,
                                client.group(1).decode("utf-8", "replace") if client else None,
                                named.group(1).decode("utf-8", "replace"),
                            )
                    continue
                action = event.get("action")
                if type(action) is not str:
                    # A Daily webhook delivery names itself in `type`, not `action` (issue 5).
                    if "action" not in event and _is_webhook(event):
                        yield [line, event]
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
                by_action[action] = by_action.get(action, 0) + 1
                valid = es.fast.is_valid(event)
                wrong: list[Finding] = []
                if not valid:
                    wrong = schema_findings(line, event, es)
                    yield from wrong
                if strict:
                    yield from undocumented_findings(line, event, es)
                action = es.action  # one string object per action: cheap to send and hash
                if valid:
                    # The common case: session_record's record, built here without most of its
                    # type checks, since in a valid event callClientId and the declared identity
                    # fields are strings or absent (dialin-ready does not declare sessionId).
                    get = event.get
                    sid = get("sessionId")
                    if type(sid) is str:
                        k4, k5, k6, k7 = keys[action]
                        yield [line, action, get("callClientId"), sid, get(k4), get(k5), get(k6), get(k7)]
                    continue
                record = record_of(line, action, event, {finding.pointer for finding in wrong if finding.pointer})
                if record is not None:
                    yield record
            done += len(batch)
            first = line + 1
            _count_proven(kinds, action_of, by_action, counts)
    finally:
        # A batch's lines are counted as they are reached (see capture.read_lines).
        counts.lines += done + line - first + 1
        _count_proven(kinds, action_of, by_action, counts)
        tally.lines += counts.lines
        tally.blank += counts.blank
        tally.rejected += counts.rejected + no_action
        tally.other += other
        tally.unknown += unknown


def _count_proven(kinds: list[type], action_of: dict[type, str], by_action: dict[str, int], counts: LineCounts) -> None:
    """Count the lines the fast path proved (``kinds``, their struct types) by action, and forget them."""
    for kind, n in Counter(kinds).items():
        name = action_of[kind]
        by_action[name] = by_action.get(name, 0) + n
    counts.objects += len(kinds)
    kinds.clear()


#: A session id and a call client in the text of a line that is not JSON (no escapes: a best effort).
_SESSION_ID = re.compile(rb'"sessionId"[ \t]*:[ \t]*"([^"\\]*)"')
_CLIENT = re.compile(rb'"callClientId"[ \t]*:[ \t]*"([^"\\]*)"')


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
