"""The fast path (conformance/fastpath.py) accepts only lines the exact path finds valid, and
never changes a check's output: every line gets the same findings and record either way."""

from __future__ import annotations

import copy
import io
import json
import os
from typing import Any
from unittest import mock

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.check.fastpath import MATCHED_MEMORY, SESSIONLESS, Unsupported, fast_path, struct_for
from conformance.check.lines import check_lines
from conformance.check.records import RECORD_FIELDS, session_record
from conformance.check.syntax import _duplicate_key
from conformance.check.tally import Tally as LineTally
from conformance.options import Options
from conformance.schemas import ACTIONS, event_schemas, load_schemas
from conformance.strategies import broken_events, events

SETTINGS = settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
EXAMPLES = [e for a in ACTIONS for e in load_schemas()[f"{a}.schema.json"]["examples"]]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _action_first(event: dict[str, Any]) -> dict[str, Any]:
    return {"action": event["action"], **event} if "action" in event else event


@st.composite
def _lines(draw: st.DrawFn) -> bytes:
    """One event written the ways recorders write them, valid or not, most in the fast path's
    shape (compact, ``action`` first) and many one byte away from it."""
    event = draw(
        st.one_of(
            events(),
            broken_events().map(lambda b: b.events[0]),
            st.sampled_from(EXAMPLES).map(copy.deepcopy),
        )
    )
    event = _action_first(event)
    for _ in range(draw(st.integers(0, 2))):  # a field retyped, nulled, added or dropped
        kind = draw(st.sampled_from(["null", "retype", "add", "drop"]))
        key = draw(st.sampled_from([*sorted(event), *RECORD_FIELDS, "sipHeaders", "details", "type"]))
        if kind == "drop":
            event.pop(key, None)
        else:
            event[key] = None if kind == "null" else draw(JSON)
    style = draw(st.sampled_from(["compact", "compact", "spaced", "ascii", "dup", "dup", "crlf", "trailing"]))
    if style == "spaced":
        raw = json.dumps(event, ensure_ascii=False).encode()
    elif style == "ascii":  # escapes for every non-ASCII character
        raw = json.dumps(event, separators=(",", ":")).encode()
    else:  # as JSON.stringify writes (json, not orjson: it writes integers past 64 bits too)
        raw = _compact(event)
    if style == "dup" and event:  # a key written twice: parsers keep the second value
        key = draw(st.sampled_from(sorted(event)))
        # Often a value of the right type, so that only the repetition is wrong.
        value = draw(st.one_of(st.just(event[key]), st.sampled_from([event[k] for k in sorted(event)]), JSON))
        first = _compact({key: value})[1:-1]
        raw = raw[:-1] + (b"," if len(raw) > 2 else b"") + first + b"}"  # after `action`
    return raw + {"crlf": b"\r\n", "trailing": b"  \n"}.get(style, b"\n")


def _accepted(raw: bytes) -> tuple[str, Any] | None:
    """``(action, record or SESSIONLESS)`` of a line the fast path accepts, by the rule
    check_lines applies (as line 1); else None."""
    fast = fast_path()
    assert fast is not None
    proven: list[str] = []
    proof = fast.acceptor(proven)(raw, 1, True)
    return None if proof is None else (proven[0], proof)


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _check(capture: bytes, fast: bool, **options: Any) -> tuple[list[Any], LineTally]:
    tally = LineTally()
    if fast:
        out = list(check_lines(io.BytesIO(capture), tally, Options(**options)))
    else:
        with mock.patch("conformance.check.lines.fast_path", lambda: None):
            out = list(check_lines(io.BytesIO(capture), tally, Options(**options)))
    return out, tally


@SETTINGS
@given(st.lists(_lines(), min_size=1, max_size=8), st.booleans())
def test_the_fast_path_never_changes_a_check(lines: list[bytes], strict: bool) -> None:
    capture = b"".join(lines)
    with_fast, tally_fast = _check(capture, True, strict=strict)
    without, tally = _check(capture, False, strict=strict)
    assert with_fast == without
    assert tally_fast == tally


@SETTINGS
@given(_lines())
def test_a_line_the_fast_path_accepts_is_valid_in_every_respect(raw: bytes) -> None:
    accepted = _accepted(raw)
    if accepted is None:
        return
    action, proof = accepted
    event = orjson.loads(raw)  # orjson reads it too: no syntax finding
    assert type(event) is dict
    assert _duplicate_key(raw) is None
    assert event["action"] == action
    assert event_schemas()[action].exact.is_valid(event), event
    assert set(event) <= event_schemas()[action].documented  # nothing for --strict to report
    assert session_record(1, action, event) == (None if proof is SESSIONLESS else proof)


def test_every_action_has_a_fast_path() -> None:
    # A schema change the compiler cannot follow would silently send that action to the
    # exact path (correct, but slower): make it loud instead.
    fast = fast_path()
    assert fast is not None
    assert fast.actions == frozenset(ACTIONS)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b'{"action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:a@b","provider":"daily","x":1}', "extra"),
        (
            b'{"action":"dialin-ready","callClientId":"c","callClientId":"c","sipEndpoint":"sip:a@b","provider":"d"}',
            "dup",
        ),
        (b'{"action":"dialin-ready", "callClientId":"c","sipEndpoint":"sip:a@b","provider":"daily"}', "space"),
        (b'{"action":"dialin-ready","callClientId":"\\u0063","sipEndpoint":"sip:a@b","provider":"daily"}', "escape"),
        (b'{"action":"dialin-stopped","callClientId":"c","sessionId":"s","provider":"d","userId":null}', "null"),
        (
            b'{"action":"dialin-stopped","callClientId":"c","sessionId":"s","provider":"d","destination":"+12"}',
            "undeclared",
        ),
        (
            b'{"action":"dialin-stopped","callClientId":"c","sessionId":"s","provider":"d","sipHeaders":{"a":1.5}}',
            "float",
        ),
        (
            b'{"action":"dialout-connected","callClientId":"c","sessionId":"s","sipCallId":"i","provider":"d",'
            b'"destination":"+1209\\n"}',
            "pattern",
        ),
        (
            b'{"action":"dialout-connected","callClientId":"c","sessionId":"s","sipCallId":"i","provider":"d",'
            b'"destination":"12098888888"}',
            "pattern",
        ),
        (b'{"action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:a@b","provider":"daily"} x', "trailing"),
    ],
)
def test_the_fast_path_declines_what_it_cannot_prove(line: bytes, why: str) -> None:
    assert _accepted(line) is None, why


def test_a_compact_valid_event_is_accepted_with_its_record() -> None:
    fast = fast_path()
    assert fast is not None
    line = (
        b'{"action":"dialout-answered","callClientId":"c","sessionId":"s","sipCallId":"i","provider":"daily",'
        b'"destination":"sip:callee@example.com","origin":"+13977888822","userId":"u"}\n'
    )
    assert fast.accept(line) == [
        1, "dialout-answered", "c", "s", "i", "sip:callee@example.com", "+13977888822", "daily"
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"minLength": 1},  # a keyword the compiler does not implement
        {"type": ["string", "null"]},
    ],
)
def test_a_schema_the_compiler_does_not_know_is_left_to_the_exact_path(change: dict[str, Any]) -> None:
    schema = copy.deepcopy(load_schemas()["dialin-ready.schema.json"])
    schema["properties"]["provider"] = {"type": "string", **change}
    with pytest.raises(Unsupported):
        struct_for("dialin-ready", schema)


@pytest.mark.parametrize(
    "line",
    [
        b'{"action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:a@b","provider":"daily","provider":"x"}',
        b'{"action":"dialin-ready","action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:a@b","provider":"d"}',
        b'{"action":"dialin-stopped","callClientId":"c","sessionId":"s","provider":"d","sipHeaders":{"a":"1","a":"2"}}',
    ],
)
def test_a_repeated_key_in_an_otherwise_valid_event_is_still_found(line: bytes) -> None:
    findings = [item for item in _check(line + b"\n", True)[0] if not isinstance(item, list)]
    assert [f.rule for f in findings] == ["C104"]


@SETTINGS
@given(
    st.binary(max_size=12) | st.text(max_size=6).map(str.encode),
    st.binary(max_size=3) | st.sampled_from([b"\r", b" ", b"\x0c", b"\x0b", b"\xc2\xa0", b"\x00"]),
)
def test_the_fast_path_reads_bytes_as_orjson_does(inside: bytes, after: bytes) -> None:
    # Raw bytes inside a string and after the object: invalid UTF-8, CESU-8 surrogates,
    # control characters, white space that JSON does not allow. Whatever the fast path
    # accepts, orjson reads too, to the same value.
    line = b'{"action":"dialin-stopped","callClientId":"' + inside + b'","sessionId":"s","provider":"d"}' + after
    accepted = _accepted(line)
    if accepted is not None:
        assert orjson.loads(line)["callClientId"] == accepted[1][2]


def _dialout(destination: bytes, origin: bytes = b"+13977888822") -> bytes:
    return (
        b'{"action":"dialout-connected","callClientId":"c","sessionId":"s","sipCallId":"i","provider":"d",'
        b'"destination":"' + destination + b'","origin":"' + origin + b'"}'
    )


def test_a_patterned_value_is_matched_against_its_own_fields_pattern() -> None:
    # A value remembered as matching one field's pattern is no pass for another field's.
    fast = fast_path()
    assert fast is not None
    assert fast.accept(_dialout(b"+12098888888", b"+12098888888")) is not None
    dialin = b'{"action":"dialin-ready","callClientId":"c","sipEndpoint":"+12098888888","provider":"d"}'
    for _ in range(2):  # the second time, the dial-out values are remembered
        assert fast.accept(dialin) is None


def test_the_memory_of_matched_values_is_bounded() -> None:
    fast = fast_path()
    assert fast is not None
    for n in range(2 * MATCHED_MEMORY + 10):
        assert fast.accept(_dialout(b"+1%d" % (2_000_000 + n))) is not None
    assert all(len(check[2]) <= MATCHED_MEMORY for check in fast.patterned.values())
    assert fast.accept(_dialout(b"1%d" % 2_000_000)) is None  # no +: still checked
