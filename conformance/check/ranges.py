"""Checking the sessions of a capture in byte ranges, and joining the ranges in order.

A worker process checks the sessions of its range with a tracker of its own
(:func:`check_range`); the calling process then joins each range's result to the sessions
before it (:func:`join`), replaying only the sessions the range shares with them. The
result is the one a single tracker gives, finding for finding, because what a tracker
finds about a session depends only on that session's own events (:mod:`.sessions`).
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import itertools
import marshal
import operator
from collections.abc import Callable, Iterator
from typing import Any

from ..findings import Finding
from .batches import Batches, BatchWriter
from .records import CLIENT, LINE, SESSION_ID, Record
from .sessions import (
    ENDED_FIRST_ACTION,
    ENDED_LINE,
    OPEN_FIRST_LINE,
    OPEN_STEPS,
    EndedSession,
    Key,
    OpenSession,
    SessionTracker,
    plans,
)


@dataclasses.dataclass
class RangeSessions:
    """What a tracker of its own found in one range of a capture (:func:`check_range`), for
    :func:`join`. Line numbers count from the range's first line, until ``offset`` (the lines
    before the range) is added on joining."""

    found: Batches  # the range's findings, the line stage's and the tracker's (with their sessions)
    flagged: set[Key]  # the sessions the tracker has findings about
    open: dict[Key, OpenSession]  # the sessions still open at the range's end
    ended: dict[Key, EndedSession]  # the sessions that ended in the range
    # The records of the sessions the range's tracker cannot vouch for, in line order: those
    # open at its end or with a finding, and those whose first event is not a start (most
    # likely, they began before the range); and of any other session with the same session id
    # (another call client's), since picking records by id is cheaper than by key.
    suspects: list[Record]
    lost: dict[Key, int]  # the sessions the range's broken lines name (lost records), by line
    sessions_seen: int
    lines: int  # how many lines the range has
    offset: int = 0
    #: The range's ended sessions by how they went (:attr:`.sessions.SessionTracker.ends`).
    ends: dict[tuple[Any, ...], int] = dataclasses.field(default_factory=dict)
    #: Reads the range's records again (all of them, in line order), for a replay of a session
    #: its tracker vouched for; set by whoever can (:mod:`.parallel`), never sent.
    reread: Callable[[], list[Record]] | None = None

    def __getstate__(self) -> tuple[Any, ...]:
        # marshal writes and reads the session tables faster than pickle does.
        tables = marshal.dumps((self.flagged, self.open, self.ended, self.suspects, self.lost, self.ends))
        return self.found, tables, self.sessions_seen, self.lines, self.offset

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.found, tables, self.sessions_seen, self.lines, self.offset = state
        self.flagged, self.open, self.ended, self.suspects, self.lost, self.ends = marshal.loads(tables)
        self.reread = None


#: Records fed to a range's tracker at a time: its findings are handed on in between.
_SLICE = 16384


def check_range(
    records: list[Record],
    lines: int,
    partial: bool,
    out: BatchWriter,
    window: int | None = None,
    coverage: bool = False,
) -> RangeSessions:
    """Check the sessions of one range of a capture with a tracker of its own.

    ``records`` are the range's records (no webhook delivery: the webhook stage must see
    those in capture order with every other), in line order. The tracker's findings go to
    ``out`` as they come, with the key of each one's session; the line stage's are there
    already.
    """
    tracker = SessionTracker(partial, window, prune=False, coverage=coverage)
    findings: list[Finding] = []
    about: dict[int, Key] = {}
    flagged: set[Key] = set()
    for start in range(0, len(records), _SLICE):
        tracker.check(records[start : start + _SLICE], findings, about)
        if findings:
            keys = list(about.values())  # one per finding, in their order
            out.flagged(findings, keys)
            flagged.update(keys)
            findings, about = [], {}
    starts = _starts()
    suspect = {key for key, ended in tracker.ended.items() if ended[ENDED_FIRST_ACTION] not in starts}
    suspect.update(tracker.open)
    suspect.update(flagged)
    suspects = _records_of(records, {session_id for _, session_id in suspect}, _SESSION_ID_OF)
    return RangeSessions(
        out.close(), flagged, tracker.open, tracker.ended, suspects, tracker.lost, tracker.sessions_seen, lines,
        ends=tracker.ends,
    )


def join(tracker: SessionTracker, part: RangeSessions) -> Iterator[Finding]:
    """Join the sessions of a range checked by a tracker of its own (:func:`check_range`) to
    ``tracker``'s, the sessions before it, at once; return the range's findings, as if its
    records had been fed to ``tracker``, read as they are consumed (see :mod:`.batches`).

    A session the range shares with ``tracker`` (open there, or remembered as ended) was
    checked by the range's tracker as if it began in the range: its records are replayed,
    and the range's findings about it are dropped; so are those of a session with a
    finding, whose message may name other lines. Every other session of the range is taken
    over as it is.
    """
    offset = part.offset
    open_, ended = part.open, part.ended
    # Set operations in C, each walking the smaller side: usually a few sessions.
    mine, remembered = tracker.open.keys(), tracker.ended.keys()
    shared = (mine & open_.keys()) | (mine & ended.keys())
    shared |= (remembered & open_.keys()) | (remembered & ended.keys())
    # A finding's message may name another line of its session ("the first was at line 12"),
    # counted from the range's top: replay those sessions too, to write it again.
    shared.update(part.flagged)
    replayed: list[Finding] = []
    new_sessions = part.sessions_seen
    if shared:
        suspects = part.suspects
        if not shared <= set(map(_KEY_OF, suspects)):
            # A session the range's tracker vouched for, whole in the range, and yet not new
            # (a session id used again, a whole call delivered twice): rare, and so the
            # range's records are read again.
            if part.reread is None:
                raise RuntimeError("a range's sessions met earlier ones, and its records cannot be read again")
            suspects = part.reread()
        # With the lost records (a broken line's) of their session ids, in their order.
        records = _records_of(suspects, shared | {(None, session_id) for _, session_id in shared})
        # The range's tracker counted these sessions as new ones: count them again here.
        alone = SessionTracker(tracker.partial, tracker.window, coverage=tracker.coverage)
        for record in records:
            alone.feed(record)
        new_sessions -= alone.sessions_seen
        _add(part.ends, alone.ends, -1)  # and counted how they ended: the replay counts that again
        for key in shared:
            open_.pop(key, None)
            ended.pop(key, None)
        for record in records:
            record[LINE] += offset
            found = tracker.feed(record)
            if found:
                replayed += found
    for session in open_.values():  # few: the sessions still open at the range's end
        session[OPEN_FIRST_LINE] += offset
        steps = session[OPEN_STEPS]
        if steps is not None:  # (name, line, name, line, …)
            session[OPEN_STEPS] = tuple(part + offset if type(part) is int else part for part in steps)
    tracker.open.update(open_)
    for entry in ended.values():
        entry[ENDED_LINE] += offset
    tracker.ended.update(ended)
    tracker.lost.update((key, at + offset) for key, at in part.lost.items())
    tracker.sessions_seen += new_sessions
    _add(tracker.ends, part.ends)
    if tracker.due_for_prune():
        tracker.prune(offset + part.lines)
    batches = part.found
    streams: list[Iterator[Finding]] = []
    if batches.stage:
        streams.append(batches.stage_findings(offset))
    if batches.flagged:
        streams.append(finding for finding, key in batches.flagged_findings(offset) if key not in shared)
    if replayed:
        streams.append(iter(replayed))
    if len(streams) < 2:
        return streams[0] if streams else iter(())
    # A line's own findings come before those of its record, and a line has one record, so
    # one session: its findings are kept or replayed, never both.
    return heapq.merge(*streams, key=_finding_line)


def _add(counts: dict[Any, int], more: dict[Any, int], sign: int = 1) -> None:
    for key, n in more.items():
        total = counts.get(key, 0) + sign * n
        if total:
            counts[key] = total
        else:
            counts.pop(key, None)


@functools.cache
def _starts() -> frozenset[str]:
    """The actions that begin a session (a one-time step that is no finding as a first event)."""
    return frozenset(action for action, plan in plans().items() if plan[1] and plan[4] is None)


_KEY_OF = operator.itemgetter(CLIENT, SESSION_ID)  # a record's session key
_SESSION_ID_OF = operator.itemgetter(SESSION_ID)  # its session id: a string whose hash is known by now


def _records_of(records: list[Record], keys: set[Any], key_of: Callable[[Any], Any] = _KEY_OF) -> list[Record]:
    """The records whose ``key_of`` (their session, by default) is one of ``keys``, in their
    order, picked in C: usually few of many."""
    return list(itertools.compress(records, map(keys.__contains__, map(key_of, records))))


def _finding_line(finding: Finding) -> int:
    return finding.line
