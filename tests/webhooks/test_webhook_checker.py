"""The capture checker on webhook deliveries (``conformance/webhooks.py`` and its hook in
the checker): identified by ``type``, checked against the webhook schemas with the same
rule ids, and their lifecycle ordered by ``payload.timestamp`` (L20)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.check.webhooks import WebhookStream, event_time, normalise
from conformance.findings import Finding
from conformance.options import Options
from conformance.schemas import load_schemas, webhook_schemas
from conformance.surfaces import ACTION_OF, WEBHOOK_TYPES
from conformance.surfaces import webhook_schema_file as schema_file

SID = "7d208e2a-520b-4a8d-a2c9-3a36dfa0d342"
SID2 = "11111111-2222-4333-8444-555555555555"


def _rules(result: Any) -> list[str]:
    return [f.rule for f in result.findings]


# --- identification and schema ----------------------------------------------------------
def test_every_documented_delivery_passes_and_is_counted(check, lines) -> None:
    examples = [e for t in WEBHOOK_TYPES for e in load_schemas()[schema_file(t)]["examples"]]
    # One capture of unrelated sessions would mix lifecycles: check each delivery on its own.
    for example in examples:
        result = check(lines(example), partial=True)
        assert result.findings == [], (example["type"], result.findings)
        assert result.summary.telephony_events == 1
        assert result.summary.events_by_action == {example["type"]: 1}


def test_mapping_to_client_actions() -> None:
    assert ACTION_OF["dialin.connected"] == "dialin-connected"
    assert ACTION_OF["dialout.warning"] == "dialout-warning"
    assert len(ACTION_OF) == 10
    assert set(webhook_schemas()) == set(WEBHOOK_TYPES)


def test_missing_session_id_is_s201_at_the_payload(check, lines, webhook, wdrop) -> None:
    result = check(lines(webhook("dialin.connected", session_id=wdrop)), partial=True)
    [f] = result.findings
    assert (f.rule, f.pointer, f.action) == ("S201", "/payload/session_id", "dialin.connected")
    assert "payload.session_id" in f.message


def test_wrong_type_carries_the_session_id(check, lines, webhook) -> None:
    result = check(lines(webhook("dialout.answered", ts=1, sid=SID, destination=42)), partial=True)
    [f] = result.findings
    assert (f.rule, f.pointer, f.session_id) == ("S202", "/payload/destination", SID)


def test_bad_address_is_s203(check, lines, webhook) -> None:
    result = check(lines(webhook("dialout.connected", destination="12098888888")))
    assert _rules(result) == ["S203"]


@pytest.mark.parametrize(("ts", "rule"), [(1.5, "S202"), ("soon", "S203"), (None, "S202")])
def test_broken_timestamp(check, lines, webhook, ts: Any, rule: str) -> None:
    event = webhook("dialin.ready")
    event["payload"]["timestamp"] = ts
    result = check(lines(event))
    assert _rules(result) == [rule]


def test_missing_envelope_field(check, lines, webhook) -> None:
    event = webhook("dialin.ready")
    del event["event_ts"]
    [f] = check(lines(event)).findings
    assert (f.rule, f.pointer) == ("S201", "/event_ts")


@pytest.mark.parametrize(
    ("bad", "guess"),
    [
        ("dialin.connect", "dialin.connected"),
        ("dialout_answered", "dialout.answered"),
        ("dialin-ready", "dialin.ready"),
        ("dialout.transfer-requested-by-operator", None),
    ],
)
def test_unknown_telephony_type_is_s204(check, lines, webhook, bad: str, guess: str | None) -> None:
    event = webhook("dialin.connected", _type=bad)
    result = check(lines(event), allow_empty=True)
    [f] = result.findings
    assert (f.rule, f.pointer, f.action) == ("S204", "/type", bad)
    assert (f"\"{guess}\"" in f.message) if guess else "the ten webhook types" in f.message
    assert result.summary.unknown_telephony_events == 1
    assert result.summary.telephony_events == 0


def test_other_webhooks_are_counted_never_flagged(check, lines) -> None:
    result = check(lines({"type": "recording.started", "payload": {}}, {"type": "meeting.ended"}), allow_empty=True)
    assert result.findings == []
    assert result.summary.other_events == 2


def test_only_other_webhooks_is_c111(check, lines) -> None:
    assert _rules(check(lines({"type": "recording.started"}))) == ["C111"]


def test_webhooks_alone_are_telephony(check, lines, webhook) -> None:
    assert check(lines(webhook("dialin.ready"))).findings == []


@pytest.mark.parametrize(
    ("line", "what"),
    [
        (b'{"sessionId":"s"}', 'no "type"'),
        (b'{"type":5}', '"type" that is a number'),
        (b'{"type":null}', '"type" that is null'),
    ],
)
def test_c109_names_both_keys(check, lines, event, line: bytes, what: str) -> None:
    [f] = check(lines(event("dialin-ready"), line)).findings
    assert f.rule == "C109"
    assert what in f.message


def test_action_wins_over_type(check, lines, event) -> None:
    """An object with an action is a client event, whatever its type (dialin-error has one)."""
    result = check(lines(event("dialin-ready"), {"action": None, "type": "dialin.ready"}))
    assert _rules(result) == ["C109"]
    result = check(lines(event("dialin-error", type="start-failed")), partial=True)
    assert result.findings == []


def test_strict_lists_undocumented_payload_fields(check, lines, webhook) -> None:
    result = check(lines(webhook("dialin.ready", sip_endpiont="sip:x@y")), strict=True)
    [f] = result.findings
    assert (f.rule, f.pointer) == ("S205", "/payload/sip_endpiont")


def test_client_and_webhook_surfaces_of_one_call_are_separate_sessions(check, lines, event, webhook) -> None:
    capture = lines(
        event("dialout-connected", sessionId=SID),
        webhook("dialout.connected", ts=100, sid=SID),
        event("dialout-answered", sessionId=SID),
        webhook("dialout.answered", ts=101, sid=SID),
        event("dialout-stopped", sessionId=SID),
        webhook("dialout.stopped", ts=102, sid=SID),
    )
    result = check(capture)
    assert result.findings == []
    assert result.summary.sessions == 2
    assert result.summary.open_sessions == 0
    assert result.summary.telephony_events == 6


# --- lifecycle, in event-time order -------------------------------------------------------
def test_out_of_order_delivery_is_reordered_by_timestamp(check, lines, webhook) -> None:
    capture = lines(
        webhook("dialout.stopped", ts="1728023430", sid=SID),
        webhook("dialout.answered", ts="1728023428", sid=SID),
        webhook("dialout.connected", ts=1728023426, sid=SID),  # an integer among strings (D3)
    )
    result = check(capture)
    assert result.findings == []
    assert (result.summary.sessions, result.summary.open_sessions) == (1, 0)


def test_interleaved_sessions(check, lines, webhook) -> None:
    capture = lines(
        webhook("dialout.connected", ts=10, sid=SID),
        webhook("dialin.connected", ts=11, sid=SID2),
        webhook("dialout.answered", ts=12, sid=SID),
        webhook("dialin.warning", ts=13, sid=SID2),
        webhook("dialin.stopped", ts=14, sid=SID2),
        webhook("dialout.stopped", ts=15, sid=SID),
    )
    result = check(capture)
    assert result.findings == []
    assert result.summary.sessions == 2


def test_answered_without_connected_is_l301_in_webhook_words(check, lines, webhook) -> None:
    [f] = check(lines(webhook("dialout.answered", ts=5, sid=SID))).findings
    assert (f.rule, f.line, f.action, f.session_id) == ("L301", 1, "dialout.answered", SID)
    assert "dialout.connected" in f.message and "dialout-" not in f.message


def test_stopped_without_start_is_l302_unless_partial(check, lines, webhook) -> None:
    capture = lines(webhook("dialin.stopped", ts=5, sid=SID))
    assert _rules(check(capture)) == ["L302"]
    assert check(capture, partial=True).findings == []


def test_event_after_end_by_timestamp_not_arrival(check, lines, webhook) -> None:
    # Arrives first, but happened after the stop: L303 names the later line's event.
    capture = lines(
        webhook("dialin.warning", ts=30, sid=SID),
        webhook("dialin.connected", ts=10, sid=SID),
        webhook("dialin.stopped", ts=20, sid=SID),
    )
    [f] = check(capture).findings
    assert (f.rule, f.line) == ("L303", 1)
    assert "dialin.stopped" in f.message


def test_mixed_direction_is_l304(check, lines, webhook) -> None:
    capture = lines(webhook("dialin.connected", ts=1, sid=SID), webhook("dialout.warning", ts=2, sid=SID))
    assert _rules(check(capture)) == ["L304"]


def test_changed_destination_is_l305_at_the_payload(check, lines, webhook) -> None:
    capture = lines(
        webhook("dialout.connected", ts=1, sid=SID, destination="+12098888888"),
        webhook("dialout.stopped", ts=2, sid=SID, destination="+13977888822"),
    )
    [f] = check(capture).findings
    assert (f.rule, f.line, f.pointer) == ("L305", 2, "/payload/destination")


def test_second_connected_is_l306_but_a_retry_is_not(check, lines, webhook) -> None:
    first = webhook("dialin.connected", ts=1, sid=SID)
    retry = dict(first)
    again = webhook("dialin.connected", ts=2, sid=SID)
    assert check(lines(first, retry)).findings == []
    [f] = check(lines(first, again)).findings
    assert (f.rule, f.line) == ("L306", 2)


def test_same_id_different_content_is_not_a_retry(check, lines, webhook) -> None:
    """Daily's own examples reuse an id across types (D5): only identical deliveries are retries."""
    a = webhook("dialout.connected", ts=1, sid=SID, _id="2868-dial-out-ans-x")
    b = webhook("dialout.answered", ts=2, sid=SID, _id="2868-dial-out-ans-x")
    c = webhook("dialout.answered", ts=2, sid=SID, _id="2868-dial-out-ans-x")
    assert check(lines(a, b)).findings == []
    assert check(lines(a, b, c)).findings == []  # c repeats b exactly: a retry


def test_same_second_keeps_arrival_order(check, lines, webhook) -> None:
    capture = lines(webhook("dialout.connected", ts=7, sid=SID), webhook("dialout.answered", ts=7, sid=SID))
    assert check(capture).findings == []
    capture = lines(webhook("dialout.answered", ts=7, sid=SID), webhook("dialout.connected", ts=7, sid=SID))
    assert _rules(check(capture)) == ["L301"]


def test_broken_timestamp_is_ordered_as_if_it_came_now(check, lines, webhook) -> None:
    bad = webhook("dialout.answered", ts=None, sid=SID)
    bad["payload"]["timestamp"] = "later"
    capture = lines(webhook("dialout.connected", ts=100, sid=SID), bad, webhook("dialout.stopped", ts=101, sid=SID))
    assert _rules(check(capture)) == ["S203"]


# --- the bounded ordering buffer ---------------------------------------------------------
def _stream(**kw: Any) -> WebhookStream:
    return WebhookStream(Options(), **kw)


def _feed(stream: WebhookStream, events: list[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for i, e in enumerate(events, 1):
        out.extend(stream.feed(i, e))
    out.extend(stream.finish())
    return out


def test_window_releases_old_deliveries(webhook) -> None:
    stream = _stream(window_seconds=60)
    list(stream.feed(1, webhook("dialout.connected", ts=1000, sid=SID)))
    list(stream.feed(2, webhook("dialin.ready", ts=1030)))  # no session: never buffered
    assert len(stream._buffer) == 1
    list(stream.feed(3, webhook("dialout.connected", ts=1061, sid=SID2)))
    assert len(stream._buffer) == 1  # the first left: 1061 - 60 >= 1000


def test_later_than_the_window_is_fed_in_arrival_order(webhook) -> None:
    late = [
        webhook("dialout.connected", ts=1000, sid=SID2),
        webhook("dialout.stopped", ts=5000, sid=SID),
        webhook("dialout.connected", ts=6000, sid=SID2),  # pushes the clock: the stop at 5000 is released
        webhook("dialout.connected", ts=1000, sid=SID),  # 5000 s late: after its session's stop
    ]
    rules = [f.rule for f in _feed(_stream(window_seconds=600), late)]
    assert "L303" in rules
    assert [f.rule for f in _feed(_stream(window_seconds=10_000), late)].count("L303") == 0


def test_buffer_size_is_bounded(webhook) -> None:
    stream = _stream(max_buffered=3)
    for i in range(50):
        list(stream.feed(i + 1, webhook("dialin.connected", ts=100, sid=f"s{i}")))
        assert len(stream._buffer) <= 3
    assert stream.tracker.sessions_seen == 47
    list(stream.finish())
    assert stream.tracker.sessions_seen == 50 and not stream._buffer


def test_retry_memory_is_bounded(webhook) -> None:
    stream = _stream(seen_ids=5)
    for i in range(20):
        list(stream.feed(i + 1, webhook("dialin.ready", ts=i)))
    assert len(stream._seen) == 5


def test_normalise_and_event_time(webhook) -> None:
    event = webhook("dialout.connected", ts="1728023426", sid=SID)
    assert normalise(event) == {
        "sessionId": SID,
        "callClientId": None,
        "destination": event["payload"]["destination"],
        "origin": event["payload"]["origin"],
    }
    assert event_time(event) == 1728023426
    assert normalise({"type": "dialin.ready", "payload": []}) == {"sessionId": None, "callClientId": None}
    for bad in ("١٢٣", "1e3", " 1", True, 1.0, None):
        assert event_time({"payload": {"timestamp": bad}}) is None, bad
