"""Where a finding's field sits on its line: columns for reports that place results in a file.

The check itself never keeps positions: finding a field's column on every line would cost
every line, for the few that have findings. A report that wants columns (SARIF) asks once
the check is done, for a bounded number of lines: :func:`locate` reads the capture a second
time, skipping to the wanted lines a block at a time (a newline count per block, no per-line
work), and walks each wanted line to the field its pointer names with the standard library's
JSON decoder, which steps over each value that is not on the way in C.

Bounds, because a capture is someone else's file: a line longer than :data:`MAX_LOCATED_BYTES`
is not walked, and neither is a gzip file or standard input, which cannot be read again
cheaply; such findings have no column, and reports fall back to the whole line (column 1).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO

from .reading import BLOCK_BYTES, GZIP_MAGIC

#: Longer lines are not walked for columns.
MAX_LOCATED_BYTES = 1024 * 1024

#: ``(first column, column after the end)``, 1-based, counted in characters (code points).
Span = tuple[int, int]

_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


def can_locate(path: str) -> bool:
    """Whether :func:`locate` can read this capture again: a plain file, not gzip nor ``-``."""
    if path == "-":
        return False
    try:
        with open(path, "rb") as file:
            return file.read(2) != GZIP_MAGIC
    except OSError:
        return False


def locate(path: str, wanted: Mapping[int, Iterable[str]]) -> dict[tuple[int, str], Span]:
    """For each line number in ``wanted`` and each JSON pointer wanted on it, the span of
    that field on its line: from its key's opening quote (an array item's first character)
    to the end of its value. A pointer to a field the line lacks (a missing required field)
    gets the span of the object that should hold it; the empty pointer, the whole line.

    A line, or a pointer, that cannot be located (see the module docstring, and a line that
    is not JSON or that changed since the check) is left out; so is everything when the file
    cannot be read."""
    found: dict[tuple[int, str], Span] = {}
    if not wanted or not can_locate(path):
        return found
    try:
        with open(path, "rb") as file:
            for number, raw in wanted_lines(file, sorted(wanted)):
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                for pointer in set(wanted[number]):
                    span = field_span(text, pointer)
                    if span is not None:
                        found[(number, pointer)] = span
    except OSError:
        pass
    return found


def wanted_lines(
    file: IO[bytes], numbers: list[int], block_bytes: int = BLOCK_BYTES, max_bytes: int = MAX_LOCATED_BYTES
) -> Iterator[tuple[int, bytes]]:
    """The lines of ``file`` whose numbers (1-based, ascending, each once) are given, without
    their newline, each at most ``max_bytes`` long (longer ones are skipped)."""
    line = 1  # the number of the line that begins at `start` in `block`
    block, start = b"", 0
    ahead = 0  # newlines in block[start:], counted once per block
    for number in numbers:
        # Skip whole blocks and then lines until `number` begins at `start`.
        while line + ahead < number:
            line += ahead
            block, start = file.read(block_bytes), 0
            if not block:
                return
            ahead = block.count(b"\n")
        for _ in range(number - line):
            start = block.index(b"\n", start) + 1
        ahead -= number - line
        line = number
        # Gather the line, up to the bound.
        pieces: list[bytes] = []
        size = 0
        while True:
            end = block.find(b"\n", start)
            piece = block[start:] if end < 0 else block[start:end]
            size += len(piece)
            if size <= max_bytes:
                pieces.append(piece)
            if end >= 0:
                start = end + 1
                ahead -= 1
                break
            block, start = file.read(block_bytes), 0
            if not block:
                break
            ahead = block.count(b"\n")
        if not block and not size:
            return  # the file ended with the line before: there is no line here
        line += 1
        if size <= max_bytes:
            yield number, b"".join(pieces)
        if not block:
            return


def field_span(text: str, pointer: str) -> Span | None:
    """The span (see :func:`locate`) of the field ``pointer`` names in the JSON ``text``, or
    ``None`` when ``text`` is not JSON along the way."""
    try:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]] if pointer else []
        value = _skip_space(text, 0)
        span = (value, _value_end(text, value))
        for token in tokens:
            member = _member(text, value, token)
            if member is None:  # absent: the object (or array) that lacks it
                break
            first, value, end = member
            span = (first, end)
        return span[0] + 1, span[1] + 1
    except (ValueError, IndexError, RecursionError):
        return None


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in _SPACE:
        index += 1
    return index


def _value_end(text: str, index: int) -> int:
    return int(_DECODER.raw_decode(text, index)[1])


def _member(text: str, index: int, token: str) -> tuple[int, int, int] | None:
    """``(first, value, end)`` of the member ``token`` of the object or array at ``index``:
    where it begins (an object member at its key), where its value begins, and where it
    ends; ``None`` when there is no such member. Of repeated keys, the last counts, as
    most parsers keep it."""
    opening = text[index]
    if opening not in "{[":
        return None
    at = _skip_space(text, index + 1)
    position = 0
    found: tuple[int, int, int] | None = None
    while text[at] not in "}]":
        first = at
        if opening == "{":
            key, at = _DECODER.raw_decode(text, at)
            at = _skip_space(text, at)
            if text[at] != ":":
                raise ValueError("no colon after a key")
            at = _skip_space(text, at + 1)
            hit = key == token
        else:
            hit = token == str(position)
        end = _value_end(text, at)
        if hit:
            found = (first, at, end)
            if opening == "[":
                return found
        at = _skip_space(text, end)
        if text[at] == ",":
            at = _skip_space(text, at + 1)
        position += 1
    return found
