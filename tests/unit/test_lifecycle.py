"""Session lifecycles, per (callClientId, sessionId): the L3xx rules."""

from __future__ import annotations

import io
import json

import pytest

from conformance import rules
from conformance.check.lines import check_lines
from conformance.check.records import lost_record, record_keys, session_record
from conformance.check.sessions import _MIN_PRUNE, ENDED_WINDOW_LINES, SessionTracker
from conformance.check.tally import Tally as LineTally
from conformance.findings import Severity
from conformance.options import Options
from conformance.schemas import ACTIONS, event_schemas
from conformance.surfaces import IDENTITY_FIELDS

DIRECTION = {"in": "dialin", "out": "dialout"}


def _feed(tracker: SessionTracker, events: list[dict]) -> list[tuple[int, str]]:
    out = []
    for line, e in enumerate(events, 1):
        record = session_record(line, e["action"], e)
        out += [(f.line, f.rule) for f in (tracker.feed(record) if record else None) or []]
    return out


def _one(tracker: SessionTracker, line: int, event: dict) -> list | None:
    record = session_record(line, event["action"], event)
    assert record is not None
    return tracker.feed(record)


def run(events: list[dict], **kw) -> list[tuple[int, str]]:
    return _feed(SessionTracker(**kw), events)


def ev(action: str, sid: str | None = "s", cc: str = "c", **fields) -> dict:
    e = {"action": action, "callClientId": cc, **fields}
    if sid is not None:
        e["sessionId"] = sid
    return e


# --- L301 ---------------------------------------------------------------------------------
def test_answered_after_connected_is_fine() -> None:
    assert run([ev("dialout-connected"), ev("dialout-answered"), ev("dialout-stopped")]) == []


def test_l301_answered_first_is_a_warning(check, event, lines) -> None:
    result = check(lines(event("dialout-answered"), event("dialout-stopped")))
    [f] = result.findings
    assert (f.line, f.rule, f.severity) == (1, "L301", Severity.WARNING)
    assert f.session_id == event("dialout-answered")["sessionId"]
    assert f.action == "dialout-answered"


def test_l301_answered_after_another_event_without_connected() -> None:
    assert run([ev("dialout-warning"), ev("dialout-answered")]) == [(2, "L301")]


@pytest.mark.parametrize(
    "events",
    [[ev("dialout-answered")], [ev("dialout-warning"), ev("dialout-answered")]],
    ids=["answered-first", "warning-then-answered"],
)
def test_l301_not_under_partial(events: list[dict]) -> None:
    # Under partial the session may have been connected before the capture began.
    assert run(events, partial=True) == []


def test_l301_not_for_another_call_clients_connected() -> None:
    events = [ev("dialout-connected", cc="a"), ev("dialout-answered", cc="b")]
    assert run(events) == [(2, "L301")]


# --- L302 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["dialin-stopped", "dialout-stopped"])
def test_l302_stopped_without_start(action: str) -> None:
    assert run([ev(action)]) == [(1, "L302")]
    assert run([ev(action)], partial=True) == []


def test_l302_message_suggests_partial(check, event, lines) -> None:
    [f] = check(lines(event("dialin-stopped"))).findings
    # A correct capture shows it when its client joined mid-call: doubtful, not a violation.
    assert f.rule == "L302" and f.severity is Severity.WARNING
    assert "--partial" in (f.hint or "")


@pytest.mark.parametrize("first", ["dialin-warning", "dialin-connected"])
def test_stopped_after_any_earlier_event_is_fine(first: str) -> None:
    assert run([ev(first), ev("dialin-stopped")]) == []


def test_error_as_first_event_is_not_l302() -> None:
    assert run([ev("dialin-error")]) == []
    assert run([ev("dialout-error")]) == []


# --- L303 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("d", ["in", "out"])
def test_l303_connected_after_stopped(d: str) -> None:
    p = DIRECTION[d]
    assert run([ev(f"{p}-connected"), ev(f"{p}-stopped"), ev(f"{p}-connected")]) == [(3, "L303")]


@pytest.mark.parametrize("d", ["in", "out"])
@pytest.mark.parametrize("order", [("error", "stopped"), ("stopped", "error")])
def test_l303_the_other_terminal_event_may_follow_once(d: str, order: tuple[str, str]) -> None:
    p = DIRECTION[d]
    first, second = (f"{p}-{o}" for o in order)
    assert run([ev(f"{p}-connected"), ev(first), ev(second)]) == []
    # ... but a third event is after the end, whatever it is.
    for third in (first, second, f"{p}-warning"):
        assert run([ev(f"{p}-connected"), ev(first), ev(second), ev(third)]) == [(4, "L303")]


@pytest.mark.parametrize("action", ["dialin-stopped", "dialin-error"])
def test_l303_the_same_terminal_twice(action: str) -> None:
    assert run([ev("dialin-connected"), ev(action), ev(action)]) == [(3, "L303")]


def test_l303_after_a_session_that_began_with_its_error() -> None:
    assert run([ev("dialout-error"), ev("dialout-warning")]) == [(2, "L303")]


def test_l303_message_names_the_end(check, event, lines) -> None:
    data = lines(event("dialout-connected"), event("dialout-stopped"), event("dialout-connected"))
    [f] = check(data).findings
    assert f.rule == "L303"
    assert "dialout-stopped at line 2" in f.message


def test_l303_only_within_the_same_call_client() -> None:
    events = [ev("dialin-connected", cc="a"), ev("dialin-stopped", cc="a"), ev("dialin-connected", cc="b")]
    assert run(events) == []


# --- L304 ---------------------------------------------------------------------------------
def test_l304_mixed_direction_while_open() -> None:
    assert run([ev("dialin-connected"), ev("dialout-connected")]) == [(2, "L304")]


def test_l304_mixed_direction_after_the_end() -> None:
    assert run([ev("dialin-connected"), ev("dialin-stopped"), ev("dialout-connected")]) == [(3, "L304")]


def test_l304_message_names_both_directions(check, event, lines) -> None:
    data = lines(event("dialin-connected", sessionId="x"), event("dialout-connected", sessionId="x"))
    [f] = check(data).findings
    assert f.rule == "L304"
    assert "dial-in" in f.message and "dial-out" in f.message and "line 1" in f.message


# --- L305 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("field", IDENTITY_FIELDS)
def test_l305_identity_field_changes(field: str) -> None:
    events = [ev("dialout-connected", **{field: "one"}), ev("dialout-stopped", **{field: "two"})]
    assert run(events) == [(2, "L305")]


def test_l305_message_and_pointer(check, event, lines) -> None:
    data = lines(event("dialout-connected"), event("dialout-stopped", destination="+13977888822"))
    [f] = check(data).findings
    assert (f.rule, f.pointer) == ("L305", "/destination")
    assert "'+12098888888' (line 1)" in f.message and "'+13977888822'" in f.message


def test_identity_field_absent_later_or_added_later_is_fine() -> None:
    events = [
        ev("dialout-connected", destination="+1"),
        ev("dialout-warning"),  # no destination: not a change
        ev("dialout-answered", destination="+1", sipCallId="x"),  # sipCallId first seen: not a change
        ev("dialout-stopped", sipCallId="x", destination="+1"),
    ]
    assert run(events) == []


def test_l305_two_fields_change_on_one_line() -> None:
    events = [
        ev("dialin-connected", sipCallId="a", provider="daily"),
        ev("dialin-stopped", sipCallId="b", provider="x"),
    ]
    assert run(events) == [(2, "L305"), (2, "L305")]


def test_l305_not_across_call_clients() -> None:
    events = [ev("dialin-connected", cc="a", sipCallId="x"), ev("dialin-connected", cc="b", sipCallId="y")]
    assert run(events) == []


# --- L306 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["dialin-connected", "dialout-connected", "dialout-answered"])
def test_l306_repeated_one_time_step(action: str) -> None:
    prefix = [ev("dialout-connected")] if action == "dialout-answered" else []
    events = [*prefix, ev(action), ev(action)]
    assert run(events) == [(len(events), "L306")]


def test_warnings_may_repeat() -> None:
    assert run([ev("dialin-connected"), ev("dialin-warning"), ev("dialin-warning"), ev("dialin-stopped")]) == []


# --- what is fine -------------------------------------------------------------------------
def test_two_call_clients_seeing_one_session_is_fine(check, event, lines) -> None:
    cc1, cc2 = "17225364729060.1", "17225364811234.2"
    data = lines(
        event("dialout-connected", callClientId=cc1),
        event("dialout-connected", callClientId=cc2),
        event("dialout-answered", callClientId=cc2),
        event("dialout-answered", callClientId=cc1),
        event("dialout-stopped", callClientId=cc1),
        event("dialout-stopped", callClientId=cc2),
    )
    result = check(data)
    assert result.findings == []
    assert result.summary.sessions == 2
    assert result.summary.open_sessions == 0


def test_sessionless_dialout_error_and_warning_are_fine(check, event, lines, drop) -> None:
    data = lines(
        event("dialout-error", sessionId=drop),
        event("dialout-warning", sessionId=drop),
        event("dialout-error", sessionId=drop),
        event("dialin-ready"),
        event("dialin-ready"),
    )
    result = check(data, strict=True)
    assert result.findings == []
    assert result.summary.sessions == 0


def test_open_sessions_at_the_end_are_fine(check, event, lines) -> None:
    data = lines(event("dialin-connected", sessionId="a"), event("dialout-connected", sessionId="b"))
    result = check(data, strict=True)
    assert result.findings == []
    assert (result.summary.sessions, result.summary.open_sessions) == (2, 2)


def test_interleaved_sessions() -> None:
    events = [
        ev("dialin-connected", sid="1"),
        ev("dialout-connected", sid="2"),
        ev("dialin-connected", sid="3"),
        ev("dialout-answered", sid="2"),
        ev("dialin-stopped", sid="1"),
        ev("dialin-error", sid="3"),
        ev("dialout-stopped", sid="2"),
    ]
    tracker = SessionTracker()
    assert _feed(tracker, events) == []
    assert tracker.sessions_seen == 3
    assert tracker.open_sessions() == 0


def test_lifecycle_findings_carry_action_and_session(check, event, lines) -> None:
    [f] = check(lines(event("dialin-stopped", sessionId="zz"))).findings
    assert (f.action, f.session_id) == ("dialin-stopped", "zz")


# --- bounded memory -----------------------------------------------------------------------
def test_ended_sessions_memory_is_bounded() -> None:
    tracker = SessionTracker(window=1000)
    for i in range(100_000):
        sid = f"s{i}"
        assert _one(tracker, 2 * i + 1, ev("dialin-connected", sid=sid)) is None
        assert not _one(tracker, 2 * i + 2, ev("dialin-stopped", sid=sid))
    # At most one ended session per line of the window, twice over between prunes.
    assert len(tracker.ended) <= max(2 * 1001, _MIN_PRUNE)
    assert len(tracker.open) == 0
    assert tracker.sessions_seen == 100_000
    # The recently ended sessions are still remembered; one that ended too long ago is not.
    assert [f.rule for f in _one(tracker, 200_001, ev("dialin-warning", sid="s99999")) or []] == ["L303"]
    assert _one(tracker, 200_002, ev("dialin-warning", sid="s99000")) is None  # ended at line 198,000
    assert tracker.sessions_seen == 100_001


@pytest.mark.parametrize("later", [1, 999, 1000])
def test_an_ended_session_is_remembered_for_the_window_of_lines(later: int) -> None:
    tracker = SessionTracker(window=1000)
    _one(tracker, 10, ev("dialout-error", sid="x"))
    assert [f.rule for f in _one(tracker, 10 + later, ev("dialout-stopped", sid="x")) or []] == []  # L13: allowed once
    found = _one(tracker, 10 + later, ev("dialout-connected", sid="x")) or []
    assert [f.rule for f in found] == ["L303"]
    assert "at line 10" in found[0].message


@pytest.mark.parametrize("gap", [1001, 5000, 10**6])
def test_an_ended_session_is_forgotten_past_the_window(gap: int) -> None:
    tracker = SessionTracker(window=1000)
    _one(tracker, 10, ev("dialout-error", sid="x"))
    for i in range(3 * _MIN_PRUNE):  # other sessions end meanwhile, so that prunes run
        _one(tracker, 11 + i * gap // (3 * _MIN_PRUNE), ev("dialout-error", sid=f"o{i}"))
    assert _one(tracker, 10 + gap, ev("dialout-connected", sid="x")) is None  # a new session
    assert tracker.sessions_seen == 2 + 3 * _MIN_PRUNE


def test_default_ended_memory_is_bounded() -> None:
    tracker = SessionTracker()
    assert tracker.window == ENDED_WINDOW_LINES
    for i in range(4 * ENDED_WINDOW_LINES):
        _one(tracker, i, ev("dialout-error", sid=str(i)))
    assert len(tracker.ended) <= 2 * (ENDED_WINDOW_LINES + 1)
    assert len(tracker.open) == 0


@pytest.mark.parametrize("client", [["a"], {"id": "a"}, 1.5, None])
def test_a_call_client_id_of_the_wrong_type_is_s202_not_a_crash(check, event, lines, client) -> None:
    data = lines(event("dialin-connected", callClientId=client), event("dialin-stopped", callClientId=client))
    result = check(data)
    assert {rule for _, rule in result.by_line} == {"S202"}
    assert {line for line, _ in result.by_line} == {1, 2}


# --- records: what the line stage hands on ------------------------------------------------
@pytest.mark.parametrize("action", ACTIONS)
def test_a_valid_event_cannot_put_a_container_in_a_record_slot(action: str) -> None:
    """The line stage builds a valid event's record without most of session_record's type
    checks (conformance/lines.py), trusting the schema that callClientId and each declared
    identity field are strings when present. Hold the schemas to that."""
    es = event_schemas()[action]
    example = es.schema["examples"][0]
    assert es.fast.is_valid(example)
    slots = ["callClientId", *(k for k in record_keys()[action] if k != 0)]
    for name in slots:
        for container in ([], {}, [["+12098888888"]], {"uri": "sip:a@b.co"}):
            assert not es.fast.is_valid({**example, name: container}), (action, name, container)


@pytest.mark.parametrize("action", ACTIONS)
def test_the_line_stage_builds_the_same_record_as_session_record(action: str) -> None:
    example = dict(event_schemas()[action].schema["examples"][0])
    example.setdefault("sessionId", "s-1")
    # An undocumented field named like an identity field is not part of the record.
    for name, key in zip(IDENTITY_FIELDS, record_keys()[action], strict=True):
        if key == 0:
            example[name] = [[["not", "declared"]]]
    assert event_schemas()[action].fast.is_valid(example)
    line = json.dumps(example).encode()
    records = [item for item in check_lines(io.BytesIO(line), LineTally(), Options()) if isinstance(item, list)]
    assert records == [session_record(1, action, example)]
    assert all(type(v) is not list for v in records[0][4:])


@pytest.mark.parametrize("sid", [[], {}, 42, None])
def test_a_valid_event_with_an_undeclared_session_id_that_is_not_a_string_has_no_session(sid: object) -> None:
    ready = dict(event_schemas()["dialin-ready"].schema["examples"][0], sessionId=sid)
    assert event_schemas()["dialin-ready"].fast.is_valid(ready)  # dialin-ready declares no sessionId
    items = list(check_lines(io.BytesIO(json.dumps(ready).encode()), LineTally(), Options()))
    assert items == []


# --- arrays and objects where strings belong (S202): still told apart -----------------------
def _deep(leaf: int, depth: int = 12) -> list:
    value: list = [leaf]
    for _ in range(depth):
        value = [value]
    return value


def test_identity_values_whose_shortened_reprs_match_are_still_different() -> None:
    found = run([ev("dialin-connected", sipCallId=_deep(1)), ev("dialin-stopped", sipCallId=_deep(2))])
    assert found == [(2, "L305")]
    assert run([ev("dialin-connected", sipCallId=_deep(1)), ev("dialin-stopped", sipCallId=_deep(1))]) == []


def test_a_string_is_not_the_array_it_spells() -> None:
    assert run([ev("dialin-connected", sipCallId="[1]"), ev("dialin-stopped", sipCallId=[1])]) == [(2, "L305")]


def test_call_clients_that_are_arrays_differing_past_the_shortened_repr_are_two_sessions() -> None:
    a, b = list(range(1, 20)), [*range(1, 19), 99]
    assert run([ev("dialout-connected", cc=a), ev("dialout-connected", cc=b)]) == []
    assert run([ev("dialout-connected", cc=a), ev("dialout-connected", cc=a)]) == [(2, "L306")]
    assert run([ev("dialout-connected", cc=42), ev("dialout-connected", cc="42")]) == []


def test_a_changed_array_is_quoted_as_json_like_text() -> None:
    tracker = SessionTracker()
    _one(tracker, 1, ev("dialin-connected", sipCallId=[1]))
    (finding,) = _one(tracker, 2, ev("dialin-stopped", sipCallId=[2])) or []
    assert finding.message == "sipCallId of session s changed from [1] (line 1) to [2]"


def test_the_rule_text_gives_the_window_the_tracker_uses() -> None:
    assert f"remembered for {ENDED_WINDOW_LINES:,} lines" in rules.EVENT_AFTER_END.rationale


# --- a broken identity field is that line's finding, not its session's --------------------
@pytest.mark.parametrize(("field", "broken", "rule"), [("provider", 7, "S202"), ("destination", "12098888888", "S203")])
def test_a_broken_identity_field_names_its_line_and_no_other(check, event, lines, field, broken, rule) -> None:
    # Broken first: the later, correct events of the session are not flagged as changes (L305).
    first_broken = lines(
        event("dialout-connected", **{field: broken}), event("dialout-answered"), event("dialout-stopped")
    )
    assert [(f.line, f.rule) for f in check(first_broken).findings] == [(1, rule)]
    # Broken later: that line is named once, by its schema finding.
    later_broken = lines(
        event("dialout-connected"), event("dialout-answered", **{field: broken}), event("dialout-stopped")
    )
    assert [(f.line, f.rule) for f in check(later_broken).findings] == [(2, rule)]
    # A correct value that really changes is still L305.
    changed = lines(event("dialout-connected"), event("dialout-stopped", **{field: "sip:other@example.com"}))
    assert [(f.line, f.rule) for f in check(changed).findings] == [(2, "L305")]


# --- a session whose start is a broken line is not blamed for it ---------------------------
_START = '{"action":"dialin-connected","callClientId":"c","sessionId":"s1","sipCallId":"x","provider":"daily"}'
_STOP = '{"action":"dialin-stopped","callClientId":"c","sessionId":"s1","sipCallId":"x","provider":"daily"}'


@pytest.mark.parametrize(
    ("start", "rule"),
    [
        (_START.replace("dialin-connected", "dialin_connected"), "S204"),  # a typo in the action
        (_START[:70], "C101"),  # cut short, after its session id
        (_START.replace('"action":"dialin-connected",', ""), "C109"),  # no action
    ],
)
def test_a_session_whose_start_line_is_broken_is_named_only_there(check, start: str, rule: str) -> None:
    found = check(f"{start}\n{_STOP}\n".encode()).findings
    assert [(f.line, f.rule) for f in found] == [(1, rule)]
    # Without the broken line, the stop has no start: L302, as before.
    assert [(f.line, f.rule) for f in check(f"{_STOP}\n".encode()).findings] == [(1, "L302")]


def test_a_broken_line_excuses_only_its_own_session_and_only_within_the_window() -> None:
    def stop(line: int, sid: str = "s1", cc: str = "c") -> list:
        return session_record(line, "dialin-stopped", ev("dialin-stopped", sid=sid, cc=cc))  # type: ignore[return-value]

    def rules_of(tracker: SessionTracker, record: list) -> list[str]:
        return [f.rule for f in tracker.feed(record) or []]

    tracker = SessionTracker()
    assert tracker.feed(lost_record(1, "c", "s1")) is None
    assert rules_of(tracker, stop(2)) == []
    assert rules_of(tracker, stop(3, sid="s2")) == ["L302"]  # another session id
    assert rules_of(tracker, stop(4, cc="other")) == ["L302"]  # another call client's session
    # A line that names no call client excuses the session id for any.
    anyone = SessionTracker()
    anyone.feed(lost_record(1, None, "s1"))
    assert rules_of(anyone, stop(2, cc="other")) == []
    # Only within the window.
    late = SessionTracker(window=10)
    late.feed(lost_record(1, "c", "s1"))
    assert rules_of(late, stop(12)) == ["L302"]


def test_a_broken_connected_excuses_an_answered_that_is_not_the_first_event(check) -> None:
    base = '"callClientId":"c","sessionId":"s1","sipCallId":"x","provider":"daily","destination":"+12098888888"'
    data = "\n".join(
        [
            '{"action":"dialout_connected",' + base + "}",  # a typo: the session's start, lost
            '{"action":"dialout-warning",' + base + ',"errorMsg":"e"}',
            '{"action":"dialout-answered",' + base + "}",
        ]
    )
    assert [(f.line, f.rule) for f in check((data + "\n").encode()).findings] == [(1, "S204")]
