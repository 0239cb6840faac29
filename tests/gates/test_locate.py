"""Columns for reports: reading back only the reported lines, and finding a field on its line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.check.locate import field_span, locate, wanted_lines
from conformance.findings import json_pointer

_LINE = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b""))


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(_LINE, max_size=40),
    data=st.data(),
    block=st.integers(1, 64),
    max_bytes=st.integers(0, 50),
    final_newline=st.booleans(),
)
def test_wanted_lines_are_the_lines_at_those_numbers(
    lines: list[bytes], data: st.DataObject, block: int, max_bytes: int, final_newline: bool
) -> None:
    text = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    physical = text.split(b"\n") if text else []
    if text.endswith(b"\n"):
        physical.pop()
    numbers = sorted(data.draw(st.sets(st.integers(1, len(physical) + 3))))
    got = list(wanted_lines(io.BytesIO(text), numbers, block_bytes=block, max_bytes=max_bytes))
    expected = [(n, physical[n - 1]) for n in numbers if n <= len(physical) and len(physical[n - 1]) <= max_bytes]
    assert got == expected


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


def test_hostile_lines_are_not_walked(tmp_path: Path) -> None:
    assert field_span("[" * 100_000, "/0") is None  # nested too deep for the decoder: no column
    assert field_span("{oops", "/a") is None
    capture = tmp_path / "huge.ndjson"
    huge = b'{"a":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    capture.write_bytes(b'{"a":1}\n' + huge + b'\n{"a":2}\n')
    spans = locate(str(capture), {1: ["/a"], 2: ["/a"], 3: ["/a"]})
    assert spans == {(1, "/a"): (2, 7), (3, "/a"): (2, 7)}  # the 2 MiB line is left out


def test_nothing_is_located_in_gzip_or_stdin(tmp_path: Path) -> None:
    import gzip

    capture = tmp_path / "c.ndjson.gz"
    capture.write_bytes(gzip.compress(b'{"a":1}\n'))
    assert locate(str(capture), {1: ["/a"]}) == {}
    assert locate("-", {1: ["/a"]}) == {}
