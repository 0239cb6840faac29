"""Checking events against their schemas, action handling, and the shared options."""

from __future__ import annotations

import itertools
from typing import Any
from unittest import mock

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import strategies
from conformance.check import explain as events
from conformance.check.explain import schema_findings
from conformance.findings import Finding, Severity, json_pointer, show_value
from conformance.options import Options, options_from
from conformance.rules import RULES, select_rules
from conformance.schemas import ACTIONS, EventSchema, event_schemas, webhook_schemas
from conformance.strategies import json_values


def _only(result, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule == rule]


# --- schema findings ----------------------------------------------------------------------
@pytest.mark.parametrize("action", ACTIONS)
def test_each_documented_example_passes(check, event, lines, action: str) -> None:
    result = check(lines(event(action)), strict=True, partial=True)
    assert result.findings == []


@pytest.mark.parametrize("action", ACTIONS)
def test_each_required_field_missing_is_s201_naming_it(check, event, lines, drop, action: str) -> None:
    for name in event_schemas()[action].schema["required"]:
        if name == "action":
            continue
        result = check(lines(event(action, **{name: drop})), partial=True, allow_empty=True)
        s201 = _only(result, "S201")
        assert len(s201) == 1, (name, result.findings)
        assert f'missing required field "{name}"' in s201[0].message
        assert s201[0].pointer == f"/{name}"
        assert s201[0].action == action


def test_several_missing_fields_are_each_named_once(check, event, lines, drop) -> None:
    result = check(lines(event("dialout-connected", sessionId=drop, sipCallId=drop, provider=drop)), partial=True)
    assert sorted(f.pointer for f in result.findings) == ["/provider", "/sessionId", "/sipCallId"]
    assert all(f.rule == "S201" for f in result.findings)
    assert len({f.message for f in result.findings}) == 3


def test_wrong_type_message_names_field_expectation_and_value(check, event, lines) -> None:
    result = check(lines(event("dialout-stopped", sessionId=42)), partial=True)
    [f] = result.findings
    assert (f.rule, f.pointer, f.severity) == ("S202", "/sessionId", Severity.ERROR)
    assert '"sessionId"' in f.message and "a string" in f.message and "42" in f.message
    assert f.action == "dialout-stopped"


@pytest.mark.parametrize(
    ("field", "value", "expected", "shown"),
    [
        ("callClientId", None, "a string", "null"),
        ("callClientId", 17225364729060.94, "a string", "17225364729060.94"),
        ("provider", ["daily"], "a string", '["daily"]'),
        ("sipHeaders", "X-A: 1", "an object", '"X-A: 1"'),
        ("userId", True, "a string", "true"),
    ],
)
def test_wrong_types(check, event, lines, field: str, value, expected: str, shown: str) -> None:
    result = check(lines(event("dialin-connected", **{field: value})))
    [f] = result.findings
    assert f.rule == "S202"
    assert f.pointer == f"/{field}"
    assert f"\"{field}\" should be {expected} but is" in f.message
    assert f.message.endswith(shown)
    assert "null null" not in f.message


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("dialout-connected", "destination", "12098888888"),  # no '+'
        ("dialout-connected", "destination", "+0123"),  # country code 0
        ("dialout-connected", "destination", "+1209888888812345"),  # 16 digits
        ("dialout-connected", "destination", "+12098888888\n"),  # a final newline ($ is end of input)
        ("dialout-connected", "origin", "sip: space@host"),
        ("dialout-connected", "origin", "tel:+12098888888"),
        ("dialin-ready", "sipEndpoint", "room@sip.daily.co"),
        ("dialin-ready", "sipEndpoint", "sip:"),
        ("dialin-error", "type", "failed"),
        ("dialin-error", "type", ""),
    ],
)
def test_invalid_values_are_s203(check, event, lines, action: str, field: str, value: str) -> None:
    result = check(lines(event(action, **{field: value})), partial=True)
    [f] = result.findings
    assert f.rule == "S203"
    assert f.pointer == f"/{field}"
    assert f'"{field}"' in f.message and "should be" in f.message
    assert show_value(value)[:20] in f.message


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("dialout-connected", "destination", "sip:callee@example.com"),
        ("dialout-connected", "destination", "SIPS:callee@example.com;transport=tls"),
        ("dialout-connected", "origin", "+12"),
        ("dialout-connected", "origin", "+123456789012345"),
        ("dialin-error", "type", None),
        ("dialin-error", "type", "start-failed"),
        ("dialin-connected", "sipFrom", '"Bob" <sip:bob@host>;tag=1'),
        ("dialin-connected", "sipHeaders", {"X-A": 1, "X-B": None, "X-C": [1]}),
        ("dialout-error", "details", {}),
        ("dialout-connected", "provider", "a-new-provider"),
    ],
)
def test_documented_shapes_pass(check, event, lines, action: str, field: str, value) -> None:
    assert check(lines(event(action, **{field: value})), partial=True).findings == []


def test_most_relevant_finding_first(check, event, lines, drop) -> None:
    bad = event(
        "dialout-connected",
        destination="12098888888",  # value
        provider=3,  # type
        sipCallId=drop,  # missing
        details={"x": 1},
    )
    bad["sipHeaders"] = {"nested": 1}
    result = check(lines(bad), partial=True)
    assert [f.rule for f in result.findings] == ["S201", "S202", "S203"]
    assert [f.pointer for f in result.findings] == ["/sipCallId", "/provider", "/destination"]


def test_shallow_before_deep(check, event, lines) -> None:
    bad = event("dialout-error", sessionId=3, details={"destination": "nope", "sipHeaders": {"X-A": 1}})
    result = check(lines(bad))
    pointers = [f.pointer for f in result.findings]
    assert pointers[0] == "/sessionId"
    assert set(pointers[1:]) == {"/details/destination", "/details/sipHeaders/X-A"}


def test_schema_findings_carry_the_session_id(check, event, lines) -> None:
    result = check(lines(event("dialout-connected", destination="nope")))
    [f] = result.findings
    assert f.session_id == event("dialout-connected")["sessionId"]
    assert f.as_dict()["sessionId"] == f.session_id
    assert f.as_dict()["pointer"] == "/destination"


def test_action_is_checked_as_a_constant_by_dispatch(check, event, lines) -> None:
    # A dialin-ready body under the action dialin-connected is judged as dialin-connected.
    body = event("dialin-ready")
    body["action"] = "dialin-connected"
    result = check(lines(body))
    assert {f.pointer for f in _only(result, "S201")} == {"/sessionId", "/sipCallId"}


# --- strict: undocumented fields ----------------------------------------------------------
def test_undocumented_fields_are_s205_only_under_strict(check, event, lines) -> None:
    data = lines(event("dialin-ready", sipEndpiont="sip:x@y"), event("dialout-error", details={"newKey": 1}))
    assert check(data).findings == []
    strict = check(data, strict=True)
    assert strict.by_line == {(1, "S205"), (2, "S205")}
    assert [f.pointer for f in strict.findings] == ["/sipEndpiont", "/details/newKey"]
    assert all(f.severity is Severity.WARNING for f in strict.findings)
    assert '"sipEndpiont"' in strict.findings[0].message
    assert '"details.newKey"' in strict.findings[1].message


def test_strict_makes_warnings_fail() -> None:
    warning = Finding(line=1, rule="S205", severity=Severity.WARNING, message="m")
    error = Finding(line=1, rule="S201", severity=Severity.ERROR, message="m")
    assert not Options().fails(warning)
    assert Options(strict=True).fails(warning)
    assert Options().fails(error)


def test_sip_headers_contents_are_not_undocumented(check, event, lines) -> None:
    data = lines(event("dialin-connected", sipHeaders={"X-Anything": "1"}))
    assert check(data, strict=True).findings == []


# --- actions ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "guess"),
    [
        ("dialin_connected", "dialin-connected"),
        ("dialout-answerd", "dialout-answered"),
        ("Dialout-Stopped", "dialout-stopped"),
        ("dial-in-ready", "dialin-ready"),
        ("dialout_warning", "dialout-warning"),
    ],
)
def test_unknown_telephony_action_is_s204_with_did_you_mean(check, event, lines, action: str, guess: str) -> None:
    result = check(lines(event("dialin-ready"), {**event("dialin-connected"), "action": action}))
    [f] = result.findings
    assert (f.line, f.rule, f.pointer, f.action) == (2, "S204", "/action", action)
    assert f'did you mean "{guess}"?' in f.message
    assert result.summary.unknown_telephony_events == 1
    assert result.summary.events_by_action[action] == 1


def test_unknown_telephony_action_far_from_all_lists_the_ten(check, event, lines) -> None:
    result = check(lines(event("dialin-ready"), {"action": "dialout-xyzzy-quux-plugh"}))
    [f] = result.findings
    assert f.rule == "S204"
    assert all(a in f.message for a in ACTIONS)


def test_unknown_telephony_actions_do_not_count_as_telephony(check) -> None:
    result = check(b'{"action":"dialin_connected","sessionId":"s"}\n')
    assert sorted(result.rules) == ["C111", "S204"]
    assert result.summary.telephony_events == 0


@pytest.mark.parametrize(
    "action", ["participant-joined", "joined-meeting", "app-message", "dial", "DIAL", "transcription-message", ""]
)
def test_non_telephony_actions_are_counted_not_flagged(check, event, lines, action: str) -> None:
    result = check(lines(event("dialin-ready"), {"action": action, "sessionId": 3, "x": [None]}), strict=True)
    assert result.findings == []
    assert result.summary.other_events == 1
    assert result.summary.events == 2
    assert action not in result.summary.events_by_action


@pytest.mark.parametrize(
    ("line", "what"),
    [
        (b'{"sessionId":"s","provider":"daily"}', 'has no "action"'),
        (b'{"action":null}', '"action": null'),
        (b'{"action":7}', "a number"),
        (b'{"action":["dialin-ready"]}', "an array"),
        (b'{"action":{"name":"dialin-ready"}}', "an object"),
    ],
)
def test_object_without_a_string_action_is_c109(check, event, lines, line: bytes, what: str) -> None:
    result = check(lines(event("dialin-ready"), line))
    [f] = result.findings
    assert (f.line, f.rule) == (2, "C109")
    assert what in f.message
    assert result.summary.rejected_lines == 1


def test_no_telephony_event_is_c111_unless_allowed(check) -> None:
    data = b'{"action":"participant-joined"}\n\n{"action":"app-message"}\n'
    result = check(data)
    [f] = result.findings
    assert (f.line, f.rule, f.severity) == (0, "C111", Severity.ERROR)
    assert "3 line(s)" in f.message and "2 other" in f.message
    assert check(data, allow_empty=True).findings == []


def test_summary_counts(check, event, lines) -> None:
    data = lines(
        event("dialin-ready"),
        event("dialin-connected"),
        {"action": "participant-joined"},
        {"action": "dialin_connected"},
        "[]",
        "",
        event("dialin-stopped"),
    )
    s = check(data).summary
    assert (s.lines, s.blank_lines, s.rejected_lines) == (7, 1, 1)
    assert (s.telephony_events, s.other_events, s.unknown_telephony_events, s.events) == (3, 1, 1, 5)
    assert s.events_by_action == {"dialin-ready": 1, "dialin-connected": 1, "dialin-stopped": 1, "dialin_connected": 1}
    assert (s.sessions, s.open_sessions) == (1, 0)
    assert (s.errors, s.warnings) == (2, 0)  # S204 and C102
    d = s.as_dict()
    assert d["lines"] == d["blankLines"] + d["rejectedLines"] + d["events"]


# --- select / ignore ----------------------------------------------------------------------
DEFECTS = [
    b'{"action":"dialin-ready"',  # C101
    b'{"action":"dialin-ready","callClientId":"c","provider":"daily"}',  # S201
    b'{"action":"dialout-stopped","callClientId":"c","sessionId":"s","provider":"daily"}',  # L302
    b'{"action":"dialout-answered","callClientId":"c","sessionId":"t","sipCallId":"x","provider":"daily"}',  # L301
]


@pytest.mark.parametrize(
    ("select", "ignore", "expected"),
    [
        ((), (), {"C101", "S201", "L302", "L301"}),
        (("S201",), (), {"S201"}),
        (("L3",), (), {"L302", "L301"}),
        (("l",), (), {"L302", "L301"}),
        (("C", "S"), (), {"C101", "S201"}),
        ((), ("L",), {"C101", "S201"}),
        ((), ("L301", "c1"), {"S201", "L302"}),
        (("L",), ("L302",), {"L301"}),
    ],
)
def test_select_and_ignore_by_id_and_prefix(check, select, ignore, expected: set[str]) -> None:
    result = check(b"\n".join(DEFECTS) + b"\n", select=select, ignore=ignore)
    assert set(result.rules) == expected
    assert result.summary.errors + result.summary.warnings == len(result.findings)


@pytest.mark.parametrize(
    ("select", "ignore", "bad"),
    [
        (("X999",), (), "X999"),
        ((), ("S2O1",), "S2O1"),
        (("S201", "nope"), (), "nope"),
        (("",), (), ""),
        (("S2011",), (), "S2011"),
    ],
)
def test_a_bad_rule_id_is_a_value_error_naming_it(check, select, ignore, bad: str) -> None:
    with pytest.raises(ValueError, match="unknown rule id or prefix") as info:
        check(b"", select=select, ignore=ignore)
    assert repr(bad) in str(info.value)


def test_options_from_splits_and_validates() -> None:
    options = options_from(False, True, " S201, L3 ,", "", False)
    assert options.select == ("S201", "L3")
    assert options.partial
    with pytest.raises(ValueError, match="'Q1'"):
        options_from(False, False, "", "Q1", False)


def test_select_rules_by_exact_id_and_prefix() -> None:
    assert select_rules(["S201"], None) == {"S201"}
    assert select_rules(["C1"], ["C10"]) == {rule for rule in RULES if rule.startswith("C11")}
    assert select_rules(None, None) == set(RULES)


# --- findings -----------------------------------------------------------------------------
def test_json_pointer_escapes() -> None:
    assert json_pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"
    assert json_pointer([]) == ""


def test_finding_as_dict_omits_absent_keys() -> None:
    f = Finding(line=3, rule="C101", severity=Severity.ERROR, message="m")
    assert f.as_dict() == {"line": 3, "rule": "C101", "severity": "error", "message": "m"}


def test_show_value_is_short() -> None:
    assert len(show_value("x" * 500)) <= 60
    assert show_value({"a": [1, None]}) == '{"a": [1, null]}'


def test_a_client_event_without_action_is_c109_even_with_a_type(check, event, lines) -> None:
    # dialin-error carries `type: "start-failed"`; without its action it must not be taken
    # for a webhook delivery (those are `family.event` types or carry a payload) and go unflagged.
    broken = {k: v for k, v in event("dialin-error", type="start-failed").items() if k != "action"}
    result = check(lines(broken), partial=True, allow_empty=True)
    assert [(f.line, f.rule) for f in result.findings] == [(1, "C109")]
    assert '"start-failed" is not a webhook type' in result.findings[0].message


# --- the exact findings, computed on the failing fields only -------------------------------
def _mutated_events() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """Events of every action with some fields dropped, retyped or added: many wrong at once."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
        kind, schemas = draw(st.sampled_from([("event", event_schemas()), ("webhook", webhook_schemas())]))
        name = draw(st.sampled_from(sorted(schemas)))
        if kind == "event":
            event = dict(draw(strategies.events(name)))
        else:
            fields = draw(st.sets(st.sampled_from(sorted(schemas[name].documented))))
            event = {key: draw(json_values()) for key in fields}
        properties = sorted(schemas[name].schema.get("properties", {}))
        for key in draw(st.lists(st.sampled_from(properties), max_size=4)):
            change = draw(st.sampled_from(["drop", "retype", "null", "nested"]))
            if change == "drop":
                event.pop(key, None)
            elif change == "retype":
                event[key] = draw(json_values())
            elif change == "null":
                event[key] = None
            else:
                event[key] = {"destination": draw(json_values()), "extra": draw(json_values())}
        event.update(draw(st.dictionaries(st.text(max_size=5), json_values(), max_size=2)))
        return kind, event

    return build()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_events())
def test_explaining_only_the_failing_fields_gives_jsonschemas_own_findings(case: tuple[str, dict[str, Any]]) -> None:
    kind, event = case
    schemas = event_schemas() if kind == "event" else webhook_schemas()
    for es in schemas.values():
        fast = schema_findings(7, event, es)
        with mock.patch.object(EventSchema, "exact_parts", property(lambda es: None)):  # jsonschema on the whole event
            whole = schema_findings(7, event, es)
        assert fast == whole
        assert bool(fast) == (not es.fast.is_valid(event))


def test_a_remembered_explanation_is_that_of_the_event_it_serves(event) -> None:
    # The same defect (sessionId 42, provider missing) in events that differ elsewhere: the
    # second is explained from memory, and its findings are still its own.
    es = event_schemas()["dialout-connected"]
    es.explanations.clear()
    first = {**event("dialout-connected"), "sessionId": 42}
    first.pop("provider")
    second = {**first, "callClientId": "another", "origin": "+14155550100"}
    found = [schema_findings(line, ev, es) for line, ev in ((3, first), (9, second))]
    assert len(es.explanations) == 1
    with mock.patch.object(EventSchema, "exact_parts", property(lambda es: None)):  # jsonschema on the whole event
        whole = [schema_findings(line, ev, es) for line, ev in ((3, first), (9, second))]
    assert found == whole
    assert [(f.line, f.rule, f.pointer) for f in found[1]] == [(9, "S201", "/provider"), (9, "S202", "/sessionId")]
    # A different value is a different defect, explained anew.
    third = {**second, "sessionId": 43}
    assert "43" in schema_findings(4, third, es)[1].message
    assert len(es.explanations) == 2


def test_the_memory_of_explanations_is_bounded(event) -> None:
    from conformance.check.explain import EXPLAINED_DEFECTS

    es = event_schemas()["dialin-stopped"]
    es.explanations.clear()
    for i in range(EXPLAINED_DEFECTS + 10):
        assert schema_findings(1, {**event("dialin-stopped"), "sessionId": i}, es)
        assert len(es.explanations) <= EXPLAINED_DEFECTS
    # A defect too large to be worth remembering is explained, and not remembered.
    es.explanations.clear()
    assert schema_findings(1, {**event("dialin-stopped"), "sessionId": ["x" * 5000]}, es)
    assert es.explanations == {}


# Values equal in Python but read differently (1, 1.0, true; 0.0, -0.0), nested objects in
# either key order, and the same defect under other missing fields: a remembered explanation
# is always the one a fresh explanation gives.
_BASE = b'{"action":"dialin-connected","callClientId":"c","sessionId":"s","sipCallId":"x","provider":"p"'
_WRONG = [
    *(b"1", b"1.0", b"true", b"0", b"0.0", b"-0.0", b"false", b"1E0"),
    *(b"18446744073709551615", b"18446744073709551616", b'{"a":1,"b":2}', b'{"b":2,"a":1}'),
    *(b"[1]", b"[1.0]", b"[true]", b'"\\u00e9"', b'"e\\u0301"'),
]


def _fresh(event: dict, es: EventSchema) -> list:
    saved = es.__dict__.get("explanations")
    es.__dict__["explanations"] = {}
    try:
        return events._explained(event, es)
    finally:
        es.__dict__["explanations"] = saved


@pytest.mark.parametrize("field", ["sipCallId", "provider", "sipHeaders", "userId"])
def test_a_remembered_explanation_is_a_fresh_one(field: str) -> None:
    es = event_schemas()["dialin-connected"]
    lines = []
    for value, drop in itertools.product(_WRONG, [None, "provider", "sipCallId"]):
        event = orjson.loads(_BASE + b"}")
        event[field] = orjson.loads(value)
        if drop and drop != field:
            del event[drop]
        lines.append(event)
    for event in lines * 2:  # the second round reads the memory
        assert events._explained(event, es) == _fresh(event, es)
