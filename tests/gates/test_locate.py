"""Columns for reports: finding a finding's field on its line."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import rules
from conformance.check.locate import field_span, placed, walked_span
from conformance.findings import json_pointer

_KEY = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEY, inner, max_size=3),
    max_leaves=12,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = [(path, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*path, index))
    return out


@settings(max_examples=300, deadline=None)
@given(event=st.dictionaries(_KEY, _JSON, max_size=5), spaced=st.booleans(), ascii_only=st.booleans())
def test_the_span_of_every_field_holds_that_field(event: dict[str, Any], spaced: bool, ascii_only: bool) -> None:
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps(event, separators=separators, ensure_ascii=ascii_only)
    for path, value in _paths(event):
        span = field_span(text, json_pointer(path))
        assert span is not None
        shown = text[span[0] - 1 : span[1] - 1]
        if not path:
            assert json.loads(shown) == event
        elif isinstance(path[-1], int):
            assert json.loads(shown) == value
        else:
            # A member: its key, a colon, its value.
            assert json.loads("{" + shown + "}") == {path[-1]: value}


def test_a_missing_field_spans_the_object_that_lacks_it() -> None:
    text = '{"a": {"b": 1}}'
    assert field_span(text, "/a/c") == (2, len(text))
    assert field_span(text, "/z") == (1, len(text) + 1)


def test_hostile_lines_are_not_walked() -> None:
    assert field_span("[" * 100_000, "/0") is None  # nested too deep for the decoder: no column
    assert field_span("{oops", "/a") is None
    finding = rules.WRONG_TYPE.finding(1, "m", pointer="/a")
    (small,) = placed(b'{"a":1}', [finding])
    assert small.span == (2, 7)
    huge = b'{"a":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert placed(huge, [finding]) == [finding]  # a line over 1 MiB is left as it is
    unnamed = rules.INVALID_JSON.finding(1, "m")
    assert placed(b'{"a":1}', [unnamed]) == [unnamed]


@settings(max_examples=500, deadline=None)
@given(
    event=st.dictionaries(_KEY, _JSON, max_size=6),
    absent=_KEY,
    spaced=st.booleans(),
    ascii_only=st.booleans(),
)
def test_a_member_before_anything_nested_is_searched_to_the_same_span_as_a_walk(
    event: dict[str, Any], absent: str, spaced: bool, ascii_only: bool
) -> None:
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps(event, separators=separators, ensure_ascii=ascii_only)
    for key in [*event, absent]:
        pointer = json_pointer((key,))
        assert field_span(text, pointer) == walked_span(text, pointer), (text, pointer)


def test_a_placed_finding_is_the_finding_with_its_span() -> None:
    finding = rules.WRONG_TYPE.finding(3, "m", pointer="/a", action="x", session_id="s", hint="h")
    finding = dataclasses.replace(finding, known="k")
    (found,) = placed(b'{"a":{"b":[1]},"c":2}', [finding])
    assert found == dataclasses.replace(finding, span=(2, 15))
    given = [rules.INVALID_JSON.finding(1, "m")]
    assert placed(b'{"a":1}', given) is given  # nothing to place: the list as it was
