"""The syntax of one line: a JSON object, or a finding that says why it is not one.

A line must be one JSON object (C102), in UTF-8 (C105) and without a byte order mark
(C106), that repeats no key (C104), uses no NaN or Infinity (C103) and nests at most 1,024
levels deep (C108); else it is not JSON at all (C101). A bad line is a finding, a value,
and checking goes on with the next line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import orjson

from .. import rules
from ..findings import Finding, json_pointer, json_type, quoted
from .tally import Tally

_BOM = b"\xef\xbb\xbf"
_UNPARSED = object()
_CHAR_AT = re.compile(r"line \d+ column (\d+) \(char (\d+)\)")
_NON_FINITE = re.compile(r"-?[0-9A-Za-z.+-]+")
_NO_FINDINGS: tuple[Finding, ...] = ()


def parse_line(line_no: int, raw: bytes, counts: Tally) -> tuple[dict[str, Any] | None, Sequence[Finding]]:
    """One line's object (``None`` for a blank line or one that is not a JSON object) and its
    syntax findings; a blank or rejected line is counted in ``counts``."""
    bom: Sequence[Finding] = _NO_FINDINGS
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        obj, reason = _UNPARSED, str(exc)
        if raw.startswith(_BOM):  # orjson rejects a BOM: say so, then read the line without it
            bom = [
                rules.BYTE_ORDER_MARK.finding(
                    line_no, "line starts with a UTF-8 byte order mark (EF BB BF); it was ignored"
                )
            ]
            raw = raw[3:]
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as again:
                reason = str(again)
        if obj is _UNPARSED:
            if not raw.strip():
                counts.blank_lines += 1
                return None, bom
            counts.rejected_lines += 1
            return None, [*bom, _parse_failure(raw, line_no, reason)]
    findings = _object_findings(line_no, raw, obj, counts)
    return (obj if type(obj) is dict else None), ([*bom, *findings] if bom else findings)


def _object_findings(line_no: int, raw: bytes, obj: Any, counts: Tally) -> Sequence[Finding]:
    """``C102`` for a value that is not an object; ``C104`` for an object repeating a key."""
    if type(obj) is not dict:
        counts.rejected_lines += 1
        return [
            rules.NOT_AN_OBJECT.finding(
                line_no,
                f"line is a JSON {json_type(obj)}, not an object; every Daily event is an object",
            )
        ]
    # Duplicate keys (orjson keeps the last silently). The cheapest proof that there are
    # none: the line is exactly what orjson writes for the parsed object, as it is for
    # compact writers such as JSON.stringify; a serialised dict never repeats a key.
    try:
        written = orjson.dumps(obj)
    except TypeError:  # orjson writes at most 254 levels but reads 1024: check exactly
        written = b""
    rest = len(raw) - len(written)  # a CR left of a CRLF ending, if the rest is the same bytes
    same = raw.startswith(written) and (rest == 0 or (rest == 1 and raw[-1] == 13))
    if (written and same) or _surely_unique_keys(raw, obj):
        return _NO_FINDINGS
    dup = _duplicate_key(raw)
    if dup is None:
        return _NO_FINDINGS
    return [
        rules.DUPLICATE_KEY.finding(
            line_no,
            f"key {quoted(dup[1])} appears more than once in one object; parsers disagree on which "
            "value wins (this checker uses the last)",
            pointer=dup[0],
        )
    ]


def _surely_unique_keys(raw: bytes, obj: dict[str, Any]) -> bool:
    """A proof that no object in a line that orjson would write differently (white space,
    escapes) repeats a key; False means "check exactly".

    Without backslashes every '"' delimits a string, so each '":' ends a key; with no white
    space before any colon, the number of '":' is the number of keys written. If that equals
    the number of keys parsed (the top object plus objects directly inside it, which must
    then be every '{' in the line), nothing was lost to a duplicate.
    """
    if b"\\" in raw or b" :" in raw or b"\t:" in raw or b"\r:" in raw or b"\n:" in raw:
        return False
    keys = len(obj)
    braces = raw.count(b"{")
    if braces != 1:
        nested = 0
        for value in obj.values():
            if type(value) is dict:
                nested += 1
                keys += len(value)
        if braces != 1 + nested:
            return False  # deeper nesting, objects in arrays, or '{' inside a string
    return raw.count(b'":') == keys


def _parse_failure(raw: bytes, line_no: int, reason: str) -> Finding:
    """Turn an orjson error into the most specific finding, with a column where we have one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return rules.INVALID_UTF8.finding(
            line_no,
            f"line is not valid UTF-8: byte 0x{raw[exc.start]:02X} at byte {exc.start + 1} cannot be decoded",
        )
    match = _CHAR_AT.search(reason)
    # orjson counts a trailing newline as a line of its own; the character offset is exact.
    column = int(match.group(2)) + 1 if match else None
    char = int(match.group(2)) if match else 0
    base = _CHAR_AT.sub("", reason).rstrip(": ").strip()
    if "depth limit" in base:
        return rules.TOO_DEEP.finding(line_no, "line nests arrays/objects more than 1024 levels deep")
    if (
        "infinity" in base
        or text[char : char + 3] == "NaN"
        or text[char : char + 8] == "Infinity"
        or (text[char : char + 9] == "-Infinity")
    ):
        start = char - 1 if char and text[char - 1] == "-" else char
        found = _NON_FINITE.match(text, start)
        literal = found.group() if found else "number"
        if len(literal) > 24:
            literal = literal[:23] + "…"
        return rules.NON_FINITE_NUMBER.finding(
            line_no,
            f"{literal} at column {column} is not a JSON number (NaN, Infinity and overflowing numbers are not JSON)",
        )
    stripped = len(text.rstrip("\r\n"))
    if column is not None and column > stripped:
        where = " at the end of the line (it is cut short)"
    else:
        where = f" at column {column}" if column is not None else ""
    return rules.INVALID_JSON.finding(line_no, f"line is not valid JSON: {base}{where}")


# The tokens that shape a JSON text: a key (a string followed by ':'), any other string,
# and the structural characters. Numbers and literals are skipped (they hold none of these).
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"[ \t\r\n]*:|"(?:[^"\\]|\\.)*"|[{}\[\],]')


def _duplicate_key(raw: bytes) -> tuple[str, str] | None:
    """``(pointer of the object, key)`` of the first duplicated key in the line, if any.

    Scans the (already validated) line iteratively, so it works at any nesting depth that
    orjson accepts: a recursive parser would give up around Python's recursion limit.
    """
    # One frame per open container: [keys seen (None for an array), current key or index].
    stack: list[list[Any]] = []
    for match in _TOKEN.finditer(raw):
        token = match.group()
        first = token[:1]
        if first == b"{":
            stack.append([set(), None])
        elif first == b"[":
            stack.append([None, 0])
        elif first in (b"}", b"]"):
            if stack:
                stack.pop()
        elif first == b",":
            if stack and stack[-1][0] is None:
                stack[-1][1] += 1
        elif token.endswith(b":") and stack and stack[-1][0] is not None:
            try:
                key = json.loads(token[:-1])
            except ValueError:  # pragma: no cover - orjson accepted this line already
                return None
            keys = stack[-1][0]
            if key in keys:
                return json_pointer([frame[1] for frame in stack[:-1]]), key
            keys.add(key)
            stack[-1][1] = key
    return None
