"""Property tests: what each public strategy promises, proved against the core checker."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.check import CaptureSummary, check_stream
from conformance.findings import Finding, Severity
from conformance.options import Options
from conformance.schemas import ACTIONS, event_schemas, load_schemas
from conformance.strategies import (
    BROKEN_EVENT_RULES,
    REALISTIC,
    REALISTIC_PATTERNS,
    as_daily_python_record,
    broken_events,
    broken_streams,
    events,
    streams,
)

FAST = settings(max_examples=150, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def findings(evs: list[dict[str, Any]], **options: Any) -> list[Finding]:
    data = b"".join(json.dumps(e).encode() + b"\n" for e in evs)
    return list(check_stream(io.BytesIO(data), CaptureSummary("<generated>"), Options(**options)))


@FAST
@given(events())
def test_a_lone_event_is_valid_mid_call(event: dict[str, Any]) -> None:
    assert event_schemas()[event["action"]].fast.is_valid(event)
    assert findings([event], partial=True) == []


@FAST
@given(streams())
def test_a_stream_has_no_finding_at_all(stream: list[dict[str, Any]]) -> None:
    assert findings(stream) == []  # no error and no warning (no L301) with the default options


@FAST
@given(streams(), st.data())
def test_a_stream_with_events_dropped_is_valid_mid_call(stream: list[dict[str, Any]], data: st.DataObject) -> None:
    # What the fuzzer's last shrinking pass relies on (conformance/fuzz/runner.py, _shorten).
    kept = data.draw(st.lists(st.booleans(), min_size=len(stream), max_size=len(stream)))
    assert findings([e for e, keep in zip(stream, kept, strict=True) if keep], partial=True, allow_empty=True) == []


@FAST
@given(broken_events())
def test_a_broken_event_fails_on_exactly_its_rule(broken: Any) -> None:
    assert broken.rule in BROKEN_EVENT_RULES and len(broken.events) == 1
    assert {f.rule for f in findings(broken.events, partial=True, allow_empty=True)} == {broken.rule}


@FAST
@given(broken_streams())
def test_a_broken_stream_fails_on_exactly_its_rule(broken: Any) -> None:
    found = findings(broken.events)
    assert broken.rule in {f.rule for f in found}
    assert {f.rule for f in found if f.severity is Severity.ERROR} <= {broken.rule}


# --- the daily-python surface: the same promises, of what daily-python hands a handler ---------
def python_findings(evs: list[dict[str, Any]], **options: Any) -> list[Finding]:
    return findings([as_daily_python_record(e) for e in evs], **options)


@FAST
@given(events(surface="daily-python"))
def test_a_lone_daily_python_event_is_valid_mid_call(event: dict[str, Any]) -> None:
    assert "callClientId" not in event
    assert python_findings([event], partial=True) == []


@FAST
@given(streams(surface="daily-python"))
def test_a_daily_python_stream_has_no_finding_at_all(stream: list[dict[str, Any]]) -> None:
    assert python_findings(stream) == []


@FAST
@given(broken_events(surface="daily-python"))
def test_a_broken_daily_python_event_fails_on_exactly_its_rule(broken: Any) -> None:
    (event,) = broken.events
    if not isinstance(event.get("action"), str) or event == {"action": "dialin-ready"}:
        return  # no action (C109), or no SIP endpoint: daily-python makes no call for them
    assert {f.rule for f in python_findings(broken.events, partial=True, allow_empty=True)} == {broken.rule}, broken


@FAST
@given(broken_streams(surface="daily-python"))
def test_a_broken_daily_python_stream_fails_on_exactly_its_rule(broken: Any) -> None:
    found = python_findings(broken.events)
    assert broken.rule in {f.rule for f in found}
    assert {f.rule for f in found if f.severity is Severity.ERROR} <= {broken.rule}


@settings(max_examples=60, database=None, deadline=None)
@given(st.data())
def test_every_action_and_variant_turns_up(data: st.DataObject) -> None:
    action = data.draw(st.sampled_from(ACTIONS))
    event = data.draw(events(action))
    assert event["action"] == action
    assert set(event_schemas()[action].schema["required"]) <= set(event)


def test_generation_covers_what_the_issue_asks_for() -> None:
    seen: dict[str, bool] = {
        k: False
        for k in (
            "only-required",
            "all-optional",
            "null-type",
            "extra",
            "sip-uri-dest",
            "phone-dest",
            "non-string-header",
            "no-session-dialout-error",
        )
    }

    @settings(max_examples=300, database=None, deadline=None)
    @given(st.tuples(*(events(a) for a in ACTIONS)))
    def look(batch: tuple[dict[str, Any], ...]) -> None:
        for e in batch:
            props = event_schemas()[e["action"]].schema["properties"]
            required = event_schemas()[e["action"]].schema["required"]
            seen["only-required"] |= set(e) == set(required)
            seen["all-optional"] |= set(props) <= set(e) and e["action"] != "dialin-ready"
            seen["null-type"] |= "type" in e and e["type"] is None
            seen["extra"] |= bool(set(e) - set(props))
            seen["sip-uri-dest"] |= str(e.get("destination", "")).lower().startswith("sip")
            seen["phone-dest"] |= str(e.get("destination", "")).startswith("+")
            seen["non-string-header"] |= any(not isinstance(v, str) for v in (e.get("sipHeaders") or {}).values())
            seen["no-session-dialout-error"] |= e["action"] == "dialout-error" and "sessionId" not in e

    look()
    assert all(seen.values()), seen


def test_realistic_generators_match_the_current_def_patterns() -> None:
    # A pattern change in defs.schema.json turns the realistic generator off (see _value);
    # this test says so, so that the generator is brought up to date.
    defs = load_schemas()["defs.schema.json"]["$defs"]
    for name, pattern in REALISTIC_PATTERNS.items():
        assert defs[name]["pattern"] == pattern
    assert set(REALISTIC) <= set(defs)


def test_an_unknown_pattern_falls_back_to_from_regex() -> None:
    from conformance.fuzz.generate import value_strategy as _value

    strategy = _value({"type": "string", "pattern": "^ab[0-9]{2}$"}, "defs.schema.json")

    @settings(max_examples=30, database=None)
    @given(strategy)
    def check(value: str) -> None:
        assert re.fullmatch(r"ab[0-9]{2}", value)

    check()


@FAST
@given(st.one_of(events(surface="daily-python"), broken_events(surface="daily-python").map(lambda b: b.events[0])))
def test_a_daily_python_record_reads_back_as_the_event_its_handler_gets(event: dict[str, Any]) -> None:
    from conformance.strategies import as_daily_python_record, from_daily_python_record

    record = as_daily_python_record(event)
    assert as_daily_python_record(from_daily_python_record(record)) == record
