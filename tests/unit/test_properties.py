"""Properties: the checker never raises and accounts for every line, whatever it is fed;
the duplicate-key check agrees with a reference; the fast and exact validators agree."""

from __future__ import annotations

import copy
import io
import json
import os
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conformance.check import CaptureSummary, check_stream
from conformance.check.explain import schema_findings
from conformance.options import Options
from conformance.rules import RULES
from conformance.schemas import ACTIONS, event_schemas, load_schemas

# PROPERTY_EXAMPLES=5000 for a longer hunt.
SETTINGS = settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
EXAMPLES = [(a, e) for a in ACTIONS for e in load_schemas()[f"{a}.schema.json"]["examples"]]


def _check(data: bytes, **options: Any) -> tuple[list, CaptureSummary]:
    summary = CaptureSummary("<prop>")
    findings = list(check_stream(io.BytesIO(data), summary, Options(**options)))
    return findings, summary


def _physical_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _assert_accounted(data: bytes, findings: list, summary: CaptureSummary) -> None:
    assert summary.lines == _physical_lines(data)
    assert summary.lines == summary.blank_lines + summary.rejected_lines + summary.events
    assert summary.errors + summary.warnings == len(findings)
    for f in findings:
        assert f.rule in RULES
        assert f.severity is RULES[f.rule].severity
        assert 0 <= f.line <= summary.lines
        assert f.message


# --- arbitrary bytes ----------------------------------------------------------------------
INTERESTING = st.sampled_from(
    [b"{", b"}", b"[", b"]", b'"', b":", b",", b"\\", b"NaN", b"-Infinity", b"1e400", b"\xef\xbb\xbf", b"\xff",
     b"\x00", b"\r", b'"action"', b'"dialin-ready"', b"null", b" "]
)
CHUNK = st.one_of(st.binary(max_size=40), INTERESTING)
LINE = st.lists(CHUNK, max_size=12).map(b"".join)


@SETTINGS
@given(st.lists(LINE, max_size=20), st.sampled_from([b"\n", b"\r\n"]), st.booleans(), st.booleans())
def test_arbitrary_bytes_never_raise_and_every_line_is_accounted(
    parts: list[bytes], newline: bytes, final_newline: bool, strict: bool
) -> None:
    data = newline.join(parts) + (newline if final_newline and parts else b"")
    findings, summary = _check(data, strict=strict, max_line_bytes=256)
    _assert_accounted(data, findings, summary)


# --- arbitrary JSON values ----------------------------------------------------------------
KEYS = st.one_of(
    st.sampled_from(["action", "sessionId", "callClientId", "provider", "a", "a\"b", "\\", "{", ":", "\u00e9", ""]),
    st.text(max_size=8),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from((*ACTIONS, "dialin_connected", "participant-joined")),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)),
    max_leaves=25,
)


def _dump(value: Any, style: int) -> bytes:
    if style == 0:
        return json.dumps(value, separators=(",", ":")).encode()
    if style == 1:
        return json.dumps(value).encode()
    if style == 2:
        return json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
    return json.dumps(value, separators=(" , ", " : "), ensure_ascii=False).encode()


def _mutate(event: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    event = copy.deepcopy(event)
    for _ in range(data.draw(st.integers(0, 3))):
        kind = data.draw(st.sampled_from(["drop", "retype", "string", "add"]))
        if kind == "add" or not event:
            event[data.draw(KEYS)] = data.draw(JSON)
            continue
        key = data.draw(st.sampled_from(sorted(event)))
        if kind == "drop":
            del event[key]
        elif kind == "retype":
            event[key] = data.draw(JSON)
        else:
            event[key] = data.draw(st.text(max_size=20))
    return event


@SETTINGS
@given(st.data())
def test_json_values_never_raise_and_python_written_json_has_no_syntax_finding(data: st.DataObject) -> None:
    values = data.draw(
        st.lists(
            st.one_of(JSON, st.sampled_from(EXAMPLES).map(lambda ae: ae[1])),
            max_size=8,
        )
    )
    values += [_mutate(e, data) for _, e in data.draw(st.lists(st.sampled_from(EXAMPLES), max_size=6))]
    styles = [data.draw(st.integers(0, 3)) for _ in values]
    raw_lines = [_dump(v, s) for v, s in zip(values, styles, strict=True)]
    capture = b"\n".join(raw_lines) + b"\n" if raw_lines else b""
    strict, partial = data.draw(st.booleans()), data.draw(st.booleans())
    findings, summary = _check(capture, strict=strict, partial=partial, allow_empty=True)
    _assert_accounted(capture, findings, summary)
    # What json.dumps writes is valid UTF-8 JSON with unique keys and finite numbers.
    assert not {f.rule for f in findings} & {"C101", "C103", "C104", "C105", "C106", "C107", "C108", "C110"}
    not_objects = {i + 1 for i, v in enumerate(values) if not isinstance(v, dict)}
    assert {f.line for f in findings if f.rule == "C102"} == not_objects
    no_action = {i + 1 for i, v in enumerate(values) if isinstance(v, dict) and not isinstance(v.get("action"), str)}
    # An object with a string `type` and no `action` may be read as a webhook delivery instead.
    webhook_like = {
        i + 1
        for i, v in enumerate(values)
        if isinstance(v, dict) and "action" not in v and isinstance(v.get("type"), str)
    }
    c109 = {f.line for f in findings if f.rule == "C109"}
    assert no_action - webhook_like <= c109 <= no_action


# --- duplicate keys against a reference ---------------------------------------------------
def _text_with_pairs(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON text whose objects may repeat keys, with random white space."""
    ws = draw(st.sampled_from(["", " ", "\t", "  "]))
    kind = draw(st.sampled_from(["scalar", "list", "object"] if depth < 4 else ["scalar"]))
    if kind == "scalar":
        return json.dumps(draw(st.one_of(st.integers(-5, 5), st.sampled_from(['x":', "{", "\\", '"a":1']), st.none())))
    if kind == "list":
        items = [_text_with_pairs(draw, depth + 1) for _ in range(draw(st.integers(0, 3)))]
        return "[" + ws + ("," + ws).join(items) + "]"
    keys = draw(st.lists(st.sampled_from(["a", "b", "ab", "a\\u0062", "\\u0061", "a\\\"", "A", "a "]), max_size=4))
    pairs = [f'"{k}"{ws}:{ws}{_text_with_pairs(draw, depth + 1)}' for k in keys]
    return "{" + ws + ("," + ws).join(pairs) + "}"


def _has_duplicate(text: str) -> bool:
    found = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in pairs}) != len(pairs):
            found.append(True)
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    return bool(found)


@SETTINGS
@given(st.data())
def test_duplicate_key_check_agrees_with_a_reference_parser(data: st.DataObject) -> None:
    body = _text_with_pairs(data.draw)
    text = '{"action":"x","v":' + body + "}"
    findings, _ = _check(text.encode() + b"\n", allow_empty=True)
    reported = [f for f in findings if f.rule == "C104"]
    assert bool(reported) == _has_duplicate(text), (text, findings)
    assert len(reported) <= 1


# --- fast and exact validators agree ------------------------------------------------------
@SETTINGS
@given(st.sampled_from(EXAMPLES), st.data())
def test_fast_and_exact_validators_agree(example: tuple[str, dict[str, Any]], data: st.DataObject) -> None:
    action, base = example
    event = _mutate(base, data)
    if data.draw(st.booleans()):
        event["action"] = action  # keep it dispatchable most of the time
    es = event_schemas()[action]
    fast, exact = es.fast.is_valid(event), es.exact.is_valid(event)
    assert fast == exact, (action, event)
    assert bool(schema_findings(1, event, es)) == (not exact)


@SETTINGS
@given(
    st.sampled_from(EXAMPLES),
    st.sampled_from(["destination", "origin", "sipEndpoint", "type", "sipFrom"]),
    st.data(),
)
def test_validators_agree_on_value_shapes(example: tuple[str, dict[str, Any]], field: str, data: st.DataObject) -> None:
    action, base = example
    es = event_schemas()[action]
    assume(field in es.documented)
    value = data.draw(
        st.one_of(
            st.text(alphabet="+0123456789 sipSIP:@.\n\t;=-é", max_size=20),
            st.from_regex(r"\A\+[1-9][0-9]{1,14}\Z"),
            st.from_regex(r"\A[sS][iI][pP][sS]?:[^ \t\r\n]+\Z"),
            st.none(),
        )
    )
    event = {**base, field: value}
    fast, exact = es.fast.is_valid(event), es.exact.is_valid(event)
    assert fast == exact, (action, field, value)
    assert bool(schema_findings(1, event, es)) == (not exact)
