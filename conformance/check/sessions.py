"""The session check: :class:`SessionTracker`, a state machine fed the records of a capture.

A session is keyed by ``(callClientId, sessionId)``: two call clients in one room can both
see the same session's events, and that is not a defect. ``dialin-ready`` (room/endpoint
scoped, L3) and ``dialout-error``/``dialout-warning`` without a ``sessionId`` (L12) belong to
no session and never reach the tracker.

Memory is bounded by the sessions still open: an ended session is remembered (to catch
events after its end) only for the next :data:`ENDED_WINDOW_LINES` lines, so a capture of
any length checks in constant memory. Sessions still open when the capture ends are normal
(L18) and produce no finding.

What the tracker finds about a session depends on that session's own events alone (never
on how many other sessions ended in between), so byte ranges of one capture can be checked
by trackers of their own and joined afterwards (:mod:`.ranges`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from typing import Any

from .. import rules
from ..findings import Finding
from ..schemas import event_schemas
from ..surfaces import HANDLER_METHODS, IDENTITY_FIELDS
from .records import IDENTITY, Record, named, shown

#: How many lines after a session's end an event of it is still flagged (L303). A window of
#: lines, not a count of ended sessions, so that what a tracker remembers of a session does
#: not depend on other sessions. Memory: at most one ended session per line of the window.
ENDED_WINDOW_LINES = 50_000
#: The memories of ended sessions and broken lines are pruned of what is past the window
#: when they double, and not below this size: a prune walks the whole memory.
_MIN_PRUNE = 4096

_TERMINAL = {"dialin-stopped", "dialin-error", "dialout-stopped", "dialout-error"}
_ONCE = {"dialin-connected", "dialout-connected", "dialout-answered"}

#: What a session's first event in a capture says when it is not its start (L301, L302).
_NOT_A_START = {
    "dialin-stopped": rules.STOPPED_WITHOUT_START,
    "dialout-stopped": rules.STOPPED_WITHOUT_START,
    "dialout-answered": rules.ANSWERED_WITHOUT_CONNECTED,
}
#: The step that must come first (L301).
_REQUIRES = {"dialout-answered": "dialout-connected"}

#: A session's key: ``(callClientId, sessionId)``.
Key = tuple[Any, str]
#: An open session, one flat list (a capture may leave millions open):
#: ``[direction, first line, first action, steps, sipCallId, destination, origin, provider]``.
#: The identity fields sit at their record indexes (:data:`~.records.IDENTITY` on), and fill
#: in as later events bring values the first lacked. ``steps`` is ``None`` or a flat tuple
#: ``(name, line, name, line, …)`` of what came after the first event: a one-time step
#: (connected, answered) at its line, and an identity field (by name) filled at its line. The
#: first action, when it is a one-time step, is that step at the first line.
OpenSession = list[Any]
#: An ended session: ``[direction, ending action, its line, whether the other terminal kind
#: came since, the action of the session's first event]``.
EndedSession = list[Any]
#: Where an open session and an ended session keep each part.
OPEN_DIRECTION, OPEN_FIRST_LINE, OPEN_FIRST_ACTION, OPEN_STEPS = range(4)
ENDED_LINE, ENDED_FIRST_ACTION = 2, 4


#: A plan: ``(direction, one-time step?, ends the session?, identity indexes, rule if it opens
#: a session, the step that must come before it)``.
Plan = tuple[str, bool, bool, tuple[int, ...], "rules.Rule | None", "str | None"]


@functools.cache
def _steps() -> dict[str, tuple[str, str | None]]:
    """Per event name (action or handler), the names of its session's connected and answered
    steps as its records give them (``None``: a dial-in session is never answered)."""
    out: dict[str, tuple[str, str | None]] = {}
    for action in event_schemas():
        family = action.partition("-")[0]
        connected, answered = f"{family}-connected", "dialout-answered" if family == "dialout" else None
        out[action] = (connected, answered)
        out[HANDLER_METHODS[action]] = (HANDLER_METHODS[connected], answered and HANDLER_METHODS[answered])
    return out


@functools.cache
def plans() -> dict[str, Plan]:
    """Per event name, everything the tracker asks about it, in one look-up (:data:`Plan`).

    A record names its event as its surface does: a client event's action, or a daily-python
    handler (whose records name the steps before them by handler too), so that findings name
    events as the capture does. The identity indexes are the record indexes of the identity
    fields the action's schema declares: only those can be on it (dial-in events have no
    destination, say).
    """
    out: dict[str, Plan] = {}
    for action, es in event_schemas().items():
        indexes = tuple(IDENTITY + i for i, name in enumerate(IDENTITY_FIELDS) if name in es.documented)
        direction = "dial-in" if action.startswith("dialin") else "dial-out"
        requires = _REQUIRES.get(action)
        for name, before in ((action, requires), (HANDLER_METHODS[action], requires and HANDLER_METHODS[requires])):
            out[name] = (direction, action in _ONCE, action in _TERMINAL, indexes, _NOT_A_START.get(action), before)
    return out


class SessionTracker:
    """Feed it a capture's records in order; it returns the lifecycle findings.

    Arguments:
        partial: the capture may begin in the middle of a call, so a session whose first
            event is not its start is not flagged (``L301`` for a first event, ``L302``).
        window: for how many lines an ended session is remembered for ``L303``;
            :data:`ENDED_WINDOW_LINES` when not given.
        prune: forget what is past the window; off for a range of a capture, whose every
            session must be kept until it is joined to the others (:mod:`.ranges`).
        coverage: count how each session ended (:attr:`ends`), for coverage.
    """

    def __init__(
        self, partial: bool = False, window: int | None = None, prune: bool = True, coverage: bool = False
    ) -> None:
        self.partial = partial
        self.window = ENDED_WINDOW_LINES if window is None else window
        self.open: dict[Key, OpenSession] = {}
        # Ended sessions by key, in no useful order; one that ended more than `window` lines
        # before an event is forgotten, whether or not a prune has removed it yet.
        self.ended: dict[Key, EndedSession] = {}
        # Sessions named by lines too broken to check (lost records), by line: such a session
        # may have lost its start there, and is not flagged for it. The key is the session's,
        # or (None, session id) for a line that names no call client.
        self.lost: dict[Key, int] = {}
        self.sessions_seen = 0
        #: With ``coverage``, ended sessions by how they went (:func:`.coverage.fold_paths`):
        #: ``(ending event, connected?, answered?)`` -> how many.
        self.ends: dict[tuple[Any, ...], int] = {}
        self.coverage = coverage
        # Where check() counts them, with the step names it asks about, if it counts them.
        self._ends = (self.ends, _steps()) if coverage else None
        self._plans = plans()
        self._prune_at = _MIN_PRUNE if prune else sys.maxsize

    def feed(self, record: Record) -> list[Finding] | None:
        """Check one record; ``None`` when there is nothing to say."""
        findings: list[Finding] = []
        self.check([record], findings)
        return findings or None

    def check(self, items: list[Any], findings: list[Finding], about: dict[int, Key] | None = None) -> bool:
        """Feed the line stage's items in order: a record is checked, and its findings are
        appended to ``findings`` (with, in ``about``, their index there and their session); a
        finding is appended as it is. Stops at a webhook item (:mod:`.records`), which it
        leaves to the webhook stage, and returns False; else True.
        """
        # The loop of every check, written once, with the tracker's state in locals: the
        # common record costs one look-up for its session and one for its action's plan.
        # Records, open and ended sessions are read by literal index here (the layouts are
        # spelt out in records.py and above: RECORD_FIELDS, OPEN_*, ENDED_*); compiled, a
        # named index costs a look-up at every use (README, "How it is built").
        open_, ended_, plans_, window, partial, ends = (
            self.open, self.ended, self._plans, self.window, self.partial, self._ends
        )
        lost = self.lost
        prune_at = self._prune_at
        list_, tuple_ = list, tuple
        seen = 0
        # The values a new session shares with the one before (its call client, its provider,
        # often its origin or destination) are kept as one object, not one per session.
        client = provider = origin = destination = None
        try:
            for item in items:
                if type(item) is not list_:
                    if type(item) is tuple_:  # a webhook item
                        return False
                    findings.append(item)
                    continue
                line, action, key = item[0], item[1], (item[2], item[3])  # see records.py
                session_id = key[1]
                if action is None:  # a lost record
                    lost[key] = line
                    if len(lost) > prune_at:
                        prune_at = self.prune(line)
                        ended_, lost = self.ended, self.lost
                    continue
                session = open_.get(key)
                direction, once, terminal, indexes, not_a_start, requires = plans_[action]
                found: list[Finding] | None = None
                if session is None:
                    ended = ended_.get(key)
                    if ended is not None and line - ended[2] <= window:
                        found = self._after_end(line, action, session_id, direction, ended)
                    else:
                        seen += 1  # a new session
                        if terminal:
                            ended_[key] = [direction, action, line, False, action]
                            if ends is not None:
                                counts = ends[0]
                                path = (action, False, False)
                                counts[path] = counts.get(path, 0) + 1
                        else:
                            if key[0] == client:
                                key = (client, session_id)
                            else:
                                client = key[0]
                            value = item[7]
                            if value == provider:
                                value = provider
                            else:
                                provider = value
                            other = item[6]
                            if other == origin:
                                other = origin
                            else:
                                origin = other
                            called = item[5]
                            if called == destination:
                                called = destination
                            else:
                                destination = called
                            open_[key] = [direction, line, action, None, item[4], called, other, value]
                        if not_a_start is not None and not partial and not (lost and self._lost_before(key, line)):
                            found = [self._not_a_start(not_a_start, line, action, session_id, requires)]
                elif session[0] != direction:
                    found = [self._mixed(line, action, session_id, session[0], session[1])]
                else:
                    # Only what this record needs is read from its session.
                    if once:
                        steps = session[3]
                        first = session[2]
                        if (
                            action == first
                            or (steps is not None and action in steps)
                            or (requires is not None and requires != first and (steps is None or requires not in steps))
                        ):
                            found = self._step(key, session, line, action, requires)
                        else:
                            session[3] = (action, line) if steps is None else (*steps, action, line)
                    for index in indexes:
                        value = item[index]
                        if value is not None and value != session[index]:
                            if session[index] is None:  # a field the session's events lacked so far
                                self._fill(session, index, value, line)
                            else:
                                changed = self._changed(session, line, action, session_id, index, value)
                                found = [*found, changed] if found else [changed]
                    if terminal:
                        del open_[key]
                        ended_[key] = [direction, action, line, False, session[2]]
                        if ends is not None:  # how it ended, after which of its one-time steps
                            counts, paths = ends
                            connected, answered = paths[action]
                            first, steps = session[2], session[3] or ()
                            path = (
                                action,
                                connected == first or connected in steps,
                                answered is not None and (answered == first or answered in steps),
                            )
                            counts[path] = counts.get(path, 0) + 1
                if found:
                    for finding in found:
                        if about is not None:
                            about[len(findings)] = key
                        findings.append(finding)
                if terminal and len(ended_) > prune_at:
                    prune_at = self.prune(line)
                    ended_, lost = self.ended, self.lost
        finally:
            self.sessions_seen += seen
        return True

    def open_sessions(self) -> int:
        """How many sessions are still open (normal at the end of a capture, L18)."""
        return len(self.open)

    def open_steps(self) -> Iterator[tuple[str, Any]]:
        """``(direction, the events it has seen of its one-time steps, and its first event,
        among line numbers)`` of each session still open, for coverage."""
        for session in self.open.values():
            yield session[OPEN_DIRECTION], (session[OPEN_FIRST_ACTION], *(session[OPEN_STEPS] or ()))

    def prune(self, line: int) -> int:
        """Forget the sessions that ended, and the broken lines that came, too long before
        ``line`` to be remembered at it or later; done when the memory doubles, so each entry
        costs O(1) here. Returns the size at which to prune next."""
        oldest = line - self.window
        self.ended = {key: ended for key, ended in self.ended.items() if ended[ENDED_LINE] >= oldest}
        self.lost = {key: at for key, at in self.lost.items() if at >= oldest}
        self._prune_at = max(2 * max(len(self.ended), len(self.lost)), _MIN_PRUNE)
        return self._prune_at

    def due_for_prune(self) -> bool:
        """Whether the memories of ended sessions and broken lines have outgrown their bound."""
        return max(len(self.ended), len(self.lost)) > self._prune_at

    # --- the cases ----------------------------------------------------------------------
    def _step(
        self, key: Key, session: OpenSession, line: int, action: str, requires: str | None
    ) -> list[Finding] | None:
        """A one-time step (connected, answered) of an open session, repeated or out of order."""
        session_id = key[1]
        first_at = _line_of(session, action)
        if first_at is not None:
            return [
                _finding(
                    rules.REPEATED_TRANSITION,
                    line,
                    action,
                    session_id,
                    f"second {action} for session {named(session_id)} (the first was at line {first_at})",
                )
            ]
        steps = session[OPEN_STEPS]
        session[OPEN_STEPS] = (action, line) if steps is None else (*steps, action, line)
        # Under partial, a session first seen after its dialout-connected is not flagged; nor
        # one whose dialout-connected may be a broken line.
        if not self.partial and not self._lost_before(key, line):
            return [self._answered_without_connected(line, action, requires, session_id)]
        return None

    def _lost_before(self, key: Key, line: int) -> bool:
        """Whether a broken line within the window before ``line`` names session ``key`` (or its
        session id, with no call client): its start may be there."""
        for lost_key in (key, (None, key[1])):
            at = self.lost.get(lost_key)
            if at is not None and line - at <= self.window:
                return True
        return False

    def _not_a_start(
        self, rule: rules.Rule, line: int, action: str, session_id: str, requires: str | None
    ) -> Finding:
        if rule is rules.ANSWERED_WITHOUT_CONNECTED:
            return self._answered_without_connected(line, action, requires, session_id)
        return _finding(
            rules.STOPPED_WITHOUT_START,
            line,
            action,
            session_id,
            f"{action} for session {named(session_id)}, which had no earlier event in this capture",
            hint="if the capture began in the middle of a call, check it with --partial",
        )

    def _after_end(
        self, line: int, action: str, session_id: str, direction: str, ended: EndedSession
    ) -> list[Finding]:
        was, ended_by, ended_at, other_seen, _ = ended
        if direction != was:
            return [self._mixed(line, action, session_id, was, ended_at)]
        # L13: whether *-stopped follows *-error (or the reverse) is undocumented; allow one.
        if self._plans[action][2] and action != ended_by and not other_seen:
            ended[3] = True
            return []
        return [
            _finding(
                rules.EVENT_AFTER_END,
                line,
                action,
                session_id,
                f"{action} for session {named(session_id)}, which already ended with {ended_by} at line {ended_at}",
                hint="a duplicate or late delivery, or a session id reused for a new call",
            )
        ]

    def _mixed(self, line: int, action: str, session_id: str, was: str, first_line: int) -> Finding:
        now = self._plans[action][0]
        return _finding(
            rules.MIXED_DIRECTION,
            line,
            action,
            session_id,
            f"{action} uses session id {named(session_id)}, which line {first_line} used for a {was} session; "
            f"a session cannot be both {was} and {now}",
        )

    def _answered_without_connected(self, line: int, action: str, requires: str | None, session_id: str) -> Finding:
        return _finding(
            rules.ANSWERED_WITHOUT_CONNECTED,
            line,
            action,
            session_id,
            f"{action} for session {named(session_id)} with no earlier {requires}",
        )

    @staticmethod
    def _fill(session: OpenSession, index: int, value: Any, line: int) -> None:
        """An identity field the session's events lacked so far, brought at ``line``."""
        session[index] = value
        steps = session[OPEN_STEPS]
        name = IDENTITY_FIELDS[index - IDENTITY]
        session[OPEN_STEPS] = (name, line) if steps is None else (*steps, name, line)

    def _changed(
        self, session: OpenSession, line: int, action: str, session_id: str, index: int, value: Any
    ) -> Finding:
        name = IDENTITY_FIELDS[index - IDENTITY]
        filled_at = _line_of(session, name)
        return _finding(
            rules.IDENTITY_CHANGED,
            line,
            action,
            session_id,
            f"{name} of session {named(session_id)} changed from {shown(session[index])} "
            f"(line {session[OPEN_FIRST_LINE] if filled_at is None else filled_at}) to {shown(value)}",
            pointer="/" + name,
        )


def _line_of(session: OpenSession, name: str) -> int | None:
    """The line at which an open session took step ``name`` (or filled identity field
    ``name``), or ``None``."""
    steps = session[OPEN_STEPS]
    if steps is not None and name in steps:
        line: int = steps[steps.index(name) + 1]
        return line
    return session[OPEN_FIRST_LINE] if name == session[OPEN_FIRST_ACTION] else None


def _finding(
    rule: rules.Rule,
    line: int,
    action: str,
    session_id: str,
    message: str,
    hint: str | None = None,
    pointer: str | None = None,
) -> Finding:
    return rule.finding(line, message, pointer=pointer, action=action, session_id=named(session_id), hint=hint)
