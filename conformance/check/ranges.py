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
from collections.abc import Callable
from typing import Any

from ..findings import Finding
from .records import CLIENT, LINE, SESSION_ID, Record
from .sessions import (
    ENDED_FIRST_ACTION,
    ENDED_LINE,
    OPEN_FIRST_LINE,
    OPEN_LINES,
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

    findings: list[Finding]  # the range's findings in line order: the line stage's and the tracker's
    about: dict[int, Key]  # the tracker's findings: their index in findings, and their session
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
        tables = marshal.dumps((self.about, self.open, self.ended, self.suspects, self.lost, self.ends))
        return self.findings, tables, self.sessions_seen, self.lines, self.offset

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.findings, tables, self.sessions_seen, self.lines, self.offset = state
        self.about, self.open, self.ended, self.suspects, self.lost, self.ends = marshal.loads(tables)
        self.reread = None


def check_range(
    items: list[Any], lines: int, partial: bool, window: int | None = None, coverage: bool = False
) -> RangeSessions | None:
    """Check the sessions of one range of a capture with a tracker of its own.

    ``items`` is the line stage's output for the range, in line order (findings and records);
    ``None`` when it holds a webhook delivery, which the webhook stage must see in capture
    order with every other.
    """
    tracker = SessionTracker(partial, window, prune=False, coverage=coverage)
    findings: list[Finding] = []
    about: dict[int, Key] = {}
    if not tracker.check(items, findings, about):
        return None
    records = [item for item in items if type(item) is list]
    starts = _starts()
    suspect = {key for key, ended in tracker.ended.items() if ended[ENDED_FIRST_ACTION] not in starts}
    suspect.update(tracker.open)
    suspect.update(about.values())
    suspects = _records_of(records, {session_id for _, session_id in suspect}, _SESSION_ID_OF)
    return RangeSessions(
        findings, about, tracker.open, tracker.ended, suspects, tracker.lost, tracker.sessions_seen, lines,
        ends=tracker.ends,
    )


def join(tracker: SessionTracker, part: RangeSessions) -> list[Finding]:
    """Join the sessions of a range checked by a tracker of its own (:func:`check_range`) to
    ``tracker``'s, the sessions before it; return the range's findings, as if its records
    had been fed to ``tracker``.

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
    # A finding's message may name another line of its session ("the first was at line
    # 12"), counted from the range's top: replay those sessions too, to write it again.
    shared.update(part.about.values())
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
        lines = session[OPEN_LINES]
        for step in lines:
            lines[step] += offset
    tracker.open.update(open_)
    for entry in ended.values():
        entry[ENDED_LINE] += offset
    tracker.ended.update(ended)
    tracker.lost.update((key, at + offset) for key, at in part.lost.items())
    tracker.sessions_seen += new_sessions
    _add(tracker.ends, part.ends)
    if tracker.due_for_prune():
        tracker.prune(offset + part.lines)
    about = part.about
    kept = [
        finding.moved(offset)
        for index, finding in enumerate(part.findings)
        if index not in about or about[index] not in shared
    ]
    if not replayed:
        return kept
    # A line has one record, so a replayed finding follows the line's own findings.
    return list(heapq.merge(kept, replayed, key=_finding_line))


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
