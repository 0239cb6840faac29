"""Checking call sessions across events: :class:`SessionTracker`.

A session is keyed by ``(callClientId, sessionId)``: two call clients in one room can both
see the same session's events, and that is not a defect. ``dialin-ready`` (room/endpoint
scoped, L3) and ``dialout-error``/``dialout-warning`` without a ``sessionId`` (L12) belong to
no session and are never tracked.

Memory is bounded by the sessions still open: an ended session is remembered (to catch
events after its end) only for the next :data:`ENDED_WINDOW_LINES` lines, so a capture of
any length checks in constant memory. Sessions still open when the capture ends are normal
(L18) and produce no finding.

Because a session's findings depend on its own events alone (never on how many other
sessions ended in between), separate byte ranges of one capture can be checked by separate
processes, each with a tracker of its own: :meth:`SessionTracker.adopt` then joins a range's
result to the sessions before it, replaying only the sessions the range shares with them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import heapq
import itertools
import marshal
import operator
import sys
from collections.abc import Callable, Collection
from typing import Any

from . import rules
from .findings import Finding, bounded_repr
from .schemas import event_schemas

#: Fields that identify a call and must not change within a session (L305).
IDENTITY_FIELDS = ("sipCallId", "destination", "origin", "provider")
#: How many lines after a session's end an event of it is still flagged (L303). A window of
#: lines, not a count of ended sessions, so that what a tracker remembers of a session does
#: not depend on other sessions (see the module docstring). Memory: at most one ended
#: session per line of the window.
ENDED_WINDOW_LINES = 50_000
#: The ended-session memory is pruned of sessions past the window when it doubles, and not
#: below this size: a prune walks the whole memory.
_MIN_PRUNE = 4096

_TERMINAL = {"dialin-stopped", "dialin-error", "dialout-stopped", "dialout-error"}
_ONCE = {"dialin-connected", "dialout-connected", "dialout-answered"}


#: Where a record holds each identity field.
_IDENTITY_INDEX = {name: 4 + i for i, name in enumerate(IDENTITY_FIELDS)}

_DIRECTION = {
    action: "dial-in" if action.startswith("dialin") else "dial-out"
    for action in (*_TERMINAL, *_ONCE, "dialin-warning", "dialout-warning", "dialin-ready")
}

#: What a session's first event in a capture says when it is not its start (L301, L302).
_NOT_A_START = {"dialin-stopped": rules.STOPPED_WITHOUT_START, "dialout-stopped": rules.STOPPED_WITHOUT_START}
_NOT_A_START["dialout-answered"] = rules.ANSWERED_WITHOUT_CONNECTED


@functools.cache
def _plans() -> dict[str, tuple[str, bool, bool, tuple[int, ...], rules.Rule | None]]:
    """Per action, everything :meth:`SessionTracker.feed` asks about it, in one look-up:
    ``(direction, one-time step?, ends the session?, identity slots, rule if it opens a
    session)``.

    The identity slots are the record indexes of the identity fields the action's schema
    declares: only those can be on it (dial-in events have no destination, say). Built on
    first use, not at import: it needs the compiled schemas.
    """
    return {
        action: (
            _DIRECTION[action],
            action in _ONCE,
            action in _TERMINAL,
            tuple(_IDENTITY_INDEX[name] for name in IDENTITY_FIELDS if name in es.documented),
            _NOT_A_START.get(action),
        )
        for action, es in event_schemas().items()
    }


@functools.cache
def record_keys() -> dict[str, tuple[Any, ...]]:
    """Per action, the keys that fill a record's identity slots: the identity fields the
    action's schema declares, and ``0`` for the others. ``0`` is never a JSON object's key,
    so that slot reads ``None``: the tracker looks only at declared fields, and an unknown
    extra field of any shape (an array nested a thousand deep, say) never reaches a record.
    """
    return {
        action: tuple(name if name in es.documented else 0 for name in IDENTITY_FIELDS)
        for action, es in event_schemas().items()
    }


def session_record(
    line: int, action: str, event: dict[str, Any], wrong: Collection[str] = ()
) -> list[Any] | None:
    """What :meth:`SessionTracker.feed` needs of one event, or ``None`` for an event of no session.

    ``[line, action, callClientId, sessionId, sipCallId, destination, origin, provider]``
    (the identity fields the action's schema declares; ``None`` for the others): a flat
    list of JSON values, so that a worker process can send it back cheaply (see
    :mod:`.parallel`). The line stage builds the records of valid events itself, the same
    way but without the type checks. A ``callClientId`` or an identity field that is an
    array or an object (S202) is kept as its :func:`_stand_in`: a list cannot key a
    session, and comparing or printing a value nested a thousand levels deep would exhaust
    Python's recursion limit.

    An identity field named in ``wrong`` (the pointers of the event's schema findings, S202
    and S203) is left out, as if absent: that line already has its finding, and a session
    that took the broken value as its own would flag each of its correct events (L305), lines
    with nothing wrong.
    """
    session_id = event.get("sessionId")
    if type(session_id) is not str:
        return None  # no session (dialin-ready, session-less dialout-error/-warning)
    get = event.get
    keys = record_keys()[action]
    if wrong:
        keys = tuple(0 if f"/{key}" in wrong else key for key in keys)  # 0 is no key: absent
    record = [line, action, get("callClientId"), session_id, *(get(key) for key in keys)]
    for index in _CONTAINER_SLOTS:
        if type(record[index]) in _CONTAINERS:
            record[index] = _stand_in(record[index])
    return record


def lost_record(line: int, client: Any, session_id: str) -> list[Any]:
    """A record for a line that names a session id but could not be checked as its event (not
    JSON, an unknown telephony action, no action): that session may have lost its start
    there, so a session with this id (and this call client, when the line names one: ``None``
    when it does not) first seen within the window after it is not flagged for a missing
    start (L301, L302). The line has its own finding; its session's later, correct events
    are not named for it."""
    return [line, None, client if type(client) is str else None, session_id, None, None, None, None]


_CONTAINER_SLOTS = (2, *range(4, 4 + len(IDENTITY_FIELDS)))
_CONTAINERS = (list, dict)


def _stand_in(value: list[Any] | dict[str, Any]) -> tuple[str, str]:
    """What a record holds for an array or object (``callClientId`` or an identity field of
    the wrong type, S202): ``(bounded repr, digest of the whole value)``.

    Hashable, so it can key a session; cheap to send; never equal to a string, nor to the
    stand-in of a different value, even when the two reprs are cut short the same way.
    ``marshal`` writes any value orjson can read (1,024 levels) without recursion limits.
    """
    return bounded_repr(value), hashlib.blake2b(marshal.dumps(value), digest_size=8).hexdigest()


def _shown(value: Any) -> str:
    """A value as a finding quotes it: a stand-in as the bounded repr it carries."""
    return value[0] if type(value) is tuple else repr(value)


# A session's state is a list, the cheapest thing to allocate per call:
# [direction, first line, known values, lines]. "Known values" is the session's first
# record, whose identity slots (4-7) fill in as later events bring fields it lacked;
# "lines" maps a one-time step's action to its line, and an identity slot filled after
# the first event to the line that filled it.
_Session = list[Any]
# A session's key: (callClientId, sessionId).
_Key = tuple[Any, str]
# An ended session: [direction, ending action, its line, whether the other terminal kind
# came, the action of its first event].
_Ended = list[Any]


class SessionTracker:
    """Feed it telephony events in capture order; it returns the lifecycle findings.

    Arguments:
        partial: the capture may begin in the middle of a call, so a session whose first
            event is not its start is not flagged (``L301`` for a first event, ``L302``).
        window: for how many lines an ended session is remembered for ``L303``;
            :data:`ENDED_WINDOW_LINES` when not given, read at each call.
    """

    def __init__(self, partial: bool = False, window: int | None = None) -> None:
        self.partial = partial
        self.window = ENDED_WINDOW_LINES if window is None else window
        self.open: dict[_Key, _Session] = {}
        # Ended sessions by key, in no useful order; one that ended more than `window` lines
        # before an event is forgotten, whether or not a prune has removed it yet.
        self.ended: dict[_Key, _Ended] = {}
        # Sessions named by lines too broken to check (lost_record), by line: such a session
        # may have lost its start there, and is not flagged for it. The key is the session's,
        # or (None, session id) for a line that names no call client.
        self.lost: dict[_Key, int] = {}
        self.sessions_seen = 0
        self._plans = _plans()
        self._prune_at = _MIN_PRUNE

    def feed(self, record: list[Any]) -> list[Finding] | None:
        """Check one event, as its :func:`session_record`; ``None`` when there is nothing to say."""
        findings: list[Finding] = []
        self.check([record], findings)
        return findings or None

    def check(self, items: list[Any], findings: list[Finding], about: dict[int, _Key] | None = None) -> bool:
        """Feed the line stage's items in order: a record is checked, and its findings are
        appended to ``findings`` (with, in ``about``, their index there and their session); a
        finding is appended as it is. Stops at a webhook delivery (``[line, delivery]``, see
        :mod:`.lines`), which it leaves to the webhook stage, and returns False; else True.
        """
        # The hot loop of every check, written out once, here: a call per record, and the
        # tracker's attributes looked up for each, would cost a tenth of it. One look-up for
        # the session and one for the action's plan; the rare cases are methods of their own.
        open_, ended_, plans, window, partial = self.open, self.ended, self._plans, self.window, self.partial
        lost = self.lost
        prune_at = self._prune_at
        list_ = list
        seen = 0
        try:
            for record in items:
                if type(record) is not list_:
                    findings.append(record)
                    continue
                if len(record) == 2:
                    return False  # [line, delivery]
                action = record[1]
                if action is None:  # lost_record: a broken line that names this session
                    lost[record[2], record[3]] = record[0]
                    if len(lost) > prune_at:
                        self._prune(record[0])
                        ended_, lost, prune_at = self.ended, self.lost, self._prune_at
                    continue
                key = (record[2], record[3])
                session = open_.get(key)
                direction, once, terminal, identity, not_a_start = plans[action]
                found: list[Finding] | None = None
                if session is None:
                    ended = ended_.get(key)
                    if ended is not None and record[0] - ended[2] <= window:
                        found = self._after_end(record[0], action, record[3], direction, ended)
                    else:
                        seen += 1  # a new session
                        if terminal:
                            ended_[key] = [direction, action, record[0], False, action]
                        else:
                            # A copy of the first record is the session's known values from now on.
                            open_[key] = [direction, record[0], record[:], {action: record[0]} if once else {}]
                        if not_a_start is not None and not partial and not (lost and self._lost_before(key, record[0])):
                            found = [self._not_a_start(not_a_start, record[0], action, record[3])]
                elif session[0] != direction:
                    found = [self._mixed(record[0], action, record[3], session[0], session[1])]
                else:
                    if once:
                        steps = session[3]
                        if action in steps or (action == "dialout-answered" and "dialout-connected" not in steps):
                            found = self._step(session, record[0], action, record[3])
                        else:
                            steps[action] = record[0]
                    known = session[2]
                    for slot in identity:
                        value = record[slot]
                        if value is not None and value != known[slot]:
                            if known[slot] is None:  # a field the session's events lacked so far
                                known[slot] = value
                                session[3][slot] = record[0]
                            else:
                                changed = self._changed(session, record[0], action, record[3], slot, value)
                                found = [*found, changed] if found else [changed]
                    if terminal:
                        del open_[key]
                        ended_[key] = [direction, action, record[0], False, known[1]]
                if found:
                    for finding in found:
                        if about is not None:
                            about[len(findings)] = key
                        findings.append(finding)
                if terminal and len(ended_) > prune_at:
                    self._prune(record[0])
                    ended_, lost, prune_at = self.ended, self.lost, self._prune_at
        finally:
            self.sessions_seen += seen
        return True

    def adopt(self, part: RangeSessions) -> list[Finding]:
        """Join the sessions of a range checked by a tracker of its own (:func:`check_range`)
        to the sessions before it; return the range's findings, as if its records had been
        fed here.

        A session the range shares with this tracker (open here, or remembered as ended) was
        checked by the range's tracker as if it began there: its records are replayed here,
        and the range's findings about it are dropped; so are those of a session with a
        finding, whose message may name other lines. Every other session of the range is
        taken over as it is, since what a tracker finds about a session depends only on that
        session's own events.
        """
        offset = part.offset
        open_, ended = part.open, part.ended
        # C-level set operations, each walking the smaller side: usually a few sessions.
        mine, remembered = self.open.keys(), self.ended.keys()
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
            alone = SessionTracker(self.partial, self.window)
            for record in records:
                alone.feed(record)
            new_sessions -= alone.sessions_seen
            for key in shared:
                open_.pop(key, None)
                ended.pop(key, None)
            for record in records:
                record[0] += offset
                found = self.feed(record)
                if found:
                    replayed += found
        for session in open_.values():  # few: the sessions still open at the range's end
            session[1] += offset
            session[2][0] += offset
            lines = session[3]
            for step in lines:
                lines[step] += offset
        self.open.update(open_)
        for entry in ended.values():
            entry[2] += offset
        self.ended.update(ended)
        self.lost.update((key, at + offset) for key, at in part.lost.items())
        self.sessions_seen += new_sessions
        if len(self.ended) > self._prune_at or len(self.lost) > self._prune_at:
            self._prune(offset + part.lines)
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

    def open_sessions(self) -> int:
        """How many sessions are still open (normal at the end of a capture, L18)."""
        return len(self.open)

    # --- the cases ----------------------------------------------------------------------
    def _step(self, session: _Session, line: int, action: str, session_id: str) -> list[Finding] | None:
        """A one-time step (connected, answered) of an open session."""
        lines = session[3]
        if action in lines:
            return [
                _finding(
                    rules.REPEATED_TRANSITION,
                    line,
                    action,
                    session_id,
                    f"second {action} for session {session_id} (the first was at line {lines[action]})",
                )
            ]
        lines[action] = line
        # Under partial, a session first seen after its dialout-connected is not flagged; nor
        # one whose dialout-connected may be a broken line.
        if (
            action == "dialout-answered"
            and "dialout-connected" not in lines
            and not self.partial
            and not self._lost_before((session[2][2], session_id), line)
        ):
            return [self._answered_without_connected(line, session_id)]
        return None

    def _lost_before(self, key: _Key, line: int) -> bool:
        """Whether a broken line within the window before ``line`` names session ``key`` (or its
        session id, with no call client): its start may be there (lost_record)."""
        for named in (key, (None, key[1])):
            at = self.lost.get(named)
            if at is not None and line - at <= self.window:
                return True
        return False

    def _not_a_start(self, rule: rules.Rule, line: int, action: str, session_id: str) -> Finding:
        if rule is rules.ANSWERED_WITHOUT_CONNECTED:
            return self._answered_without_connected(line, session_id)
        return _finding(
            rules.STOPPED_WITHOUT_START,
            line,
            action,
            session_id,
            f"{action} for session {session_id}, which had no earlier event in this capture",
            hint="if the capture began in the middle of a call, check it with --partial",
        )

    def _after_end(self, line: int, action: str, session_id: str, direction: str, ended: _Ended) -> list[Finding]:
        was, ended_by, ended_at, other_seen, _ = ended
        if direction != was:
            return [self._mixed(line, action, session_id, was, ended_at)]
        # L13: whether *-stopped follows *-error (or the reverse) is undocumented; allow one.
        if action in _TERMINAL and action != ended_by and not other_seen:
            ended[3] = True
            return []
        return [
            _finding(
                rules.EVENT_AFTER_END,
                line,
                action,
                session_id,
                f"{action} for session {session_id}, which already ended with {ended_by} at line {ended_at}",
                hint="a duplicate or late delivery, or a session id reused for a new call",
            )
        ]

    def _mixed(self, line: int, action: str, session_id: str, was: str, first_line: int) -> Finding:
        now = _DIRECTION[action]
        return _finding(
            rules.MIXED_DIRECTION,
            line,
            action,
            session_id,
            f"{action} uses session id {session_id}, which line {first_line} used for a {was} session; "
            f"a session cannot be both {was} and {now}",
        )

    def _answered_without_connected(self, line: int, session_id: str) -> Finding:
        return _finding(
            rules.ANSWERED_WITHOUT_CONNECTED,
            line,
            "dialout-answered",
            session_id,
            f"dialout-answered for session {session_id} with no earlier dialout-connected",
        )

    def _changed(self, session: _Session, line: int, action: str, session_id: str, index: int, value: Any) -> Finding:
        name = IDENTITY_FIELDS[index - 4]
        before, since = session[2][index], session[3].get(index, session[1])
        return _finding(
            rules.IDENTITY_CHANGED,
            line,
            action,
            session_id,
            f"{name} of session {session_id} changed from {_shown(before)} (line {since}) to {_shown(value)}",
            pointer="/" + name,
        )

    def _prune(self, line: int) -> None:
        """Forget the sessions that ended, and the broken lines that came, too long before
        ``line`` to be remembered at it or later; rebuilt when the memory doubles, so each
        costs O(1) here."""
        oldest = line - self.window
        self.ended = {key: ended for key, ended in self.ended.items() if ended[2] >= oldest}
        self.lost = {key: at for key, at in self.lost.items() if at >= oldest}
        self._prune_at = max(2 * max(len(self.ended), len(self.lost)), _MIN_PRUNE)


@dataclasses.dataclass
class RangeSessions:
    """What a tracker of its own found in one range of a capture (:func:`check_range`), for
    :meth:`SessionTracker.adopt`. Line numbers count from the range's first line, until
    ``offset`` (the lines before the range) is added on adoption."""

    findings: list[Finding]  # the range's findings in line order: the line stage's and the tracker's
    about: dict[int, _Key]  # the tracker's findings: their index in findings, and their session
    open: dict[_Key, _Session]  # the sessions still open at the range's end
    ended: dict[_Key, _Ended]  # the sessions that ended in the range
    # The records of the sessions the range's tracker cannot vouch for, in line order: those
    # open at its end or with a finding, and those whose first event is not a start (most
    # likely, they began before the range); and of any other session with the same session id
    # (another call client's), since picking records by id costs a fifth of picking by key.
    suspects: list[Any]
    lost: dict[_Key, int]  # the sessions the range's broken lines name (lost_record), by line
    sessions_seen: int
    lines: int  # how many lines the range has
    offset: int = 0
    #: Reads the range's records again (all of them, in line order), for a replay of a session
    #: its tracker vouched for; set by whoever can (:mod:`.parallel`), never sent.
    reread: Callable[[], list[Any]] | None = None

    def __getstate__(self) -> tuple[Any, ...]:
        # marshal writes and reads the session tables several times faster than pickle does.
        tables = marshal.dumps((self.about, self.open, self.ended, self.suspects, self.lost))
        return self.findings, tables, self.sessions_seen, self.lines, self.offset

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.findings, tables, self.sessions_seen, self.lines, self.offset = state
        self.about, self.open, self.ended, self.suspects, self.lost = marshal.loads(tables)
        self.reread = None


def check_range(items: list[Any], lines: int, partial: bool, window: int | None = None) -> RangeSessions | None:
    """Check the sessions of one range of a capture with a tracker of its own.

    ``items`` is the line stage's output for the range, in line order (findings and session
    records); ``None`` when it holds a webhook delivery, which the webhook stage must see in
    capture order with every other.
    """
    tracker = SessionTracker(partial, window)
    tracker._prune_at = sys.maxsize  # every session of the range must stay in open or ended
    findings: list[Finding] = []
    about: dict[int, _Key] = {}
    if not tracker.check(items, findings, about):
        return None  # a webhook delivery
    records = [item for item in items if type(item) is list]
    starts = _starts()
    suspect = {key for key, ended in tracker.ended.items() if ended[4] not in starts}
    suspect.update(tracker.open)
    suspect.update(about.values())
    suspects = _records_of(records, {session_id for _, session_id in suspect}, _SESSION_ID_OF)
    return RangeSessions(
        findings, about, tracker.open, tracker.ended, suspects, tracker.lost, tracker.sessions_seen, lines
    )


@functools.cache
def _starts() -> frozenset[str]:
    """The actions that begin a session (a one-time step that is no finding as a first event)."""
    return frozenset(action for action, plan in _plans().items() if plan[1] and plan[4] is None)


_KEY_OF = operator.itemgetter(2, 3)  # a record's session key
_SESSION_ID_OF = operator.itemgetter(3)  # its session id: a string whose hash is known by now


def _records_of(records: list[Any], keys: set[Any], key_of: Callable[[Any], Any] = _KEY_OF) -> list[Any]:
    """The records whose ``key_of`` (their session, by default) is one of ``keys``, in their
    order, picked in C: usually few of many, and a Python loop over all of them would cost
    more than the picking."""
    return list(itertools.compress(records, map(keys.__contains__, map(key_of, records))))


def _finding_line(finding: Finding) -> int:
    return finding.line


def _finding(
    rule: rules.Rule,
    line: int,
    action: str,
    session_id: str,
    message: str,
    hint: str | None = None,
    pointer: str | None = None,
) -> Finding:
    return rule.finding(line, message, pointer=pointer, action=action, session_id=session_id, hint=hint)
