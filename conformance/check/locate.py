"""Where a finding's field sits on its line: columns for reports that place results in a file
(SARIF, GitHub annotations).

Only a line with a finding is looked at, while the line stage still holds its bytes
(``Options.columns``, asked for by those reports): no line pays for it otherwise, and the
capture is never read a second time, so gzip files and standard input get columns too. The
line is walked to the field its pointer names with the standard library's JSON decoder,
which steps over each value that is not on the way in C.

Bounds, because a capture is someone else's file: a line longer than :data:`MAX_LOCATED_BYTES`
is not walked, nor a value nested deeper than the decoder goes; such findings, and those of
the session check (which no longer has the line), have no span, and reports place them at
column 1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from ..findings import Finding

#: Longer lines are not walked for columns.
MAX_LOCATED_BYTES = 1024 * 1024

#: ``(first column, column after the end)``, 1-based, counted in characters (code points).
Span = tuple[int, int]

#: The standard library's scanner of one JSON value (in C): ``scan(text, index) -> (value, end)``.
_SCAN: Any = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_SPACES = re.compile("[ \t\r\n]*")


def placed(raw: bytes, findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` of the line ``raw``, each that names a field with that field's span
    (``Finding.span``; see :func:`field_span`); a line longer than :data:`MAX_LOCATED_BYTES`,
    or one the walk cannot follow, leaves them as they are."""
    findings = list(findings)
    if len(raw) > MAX_LOCATED_BYTES or not any(f.pointer is not None for f in findings):
        return findings
    text = raw.decode("utf-8", "replace").rstrip("\r\n")
    out = []
    for finding in findings:
        span = field_span(text, finding.pointer) if finding.pointer is not None else None
        out.append(finding if span is None else _with_span(finding, span))
    return out


def _with_span(f: Finding, span: Span) -> Finding:
    # Positional: dataclasses.replace costs several times as much, on every placed finding.
    return Finding(f.line, f.rule, f.severity, f.message, f.pointer, f.action, f.session_id, f.hint, f.known, span)


def field_span(text: str, pointer: str) -> Span | None:
    """The span (see :func:`locate`) of the field ``pointer`` names in the JSON ``text``, or
    ``None`` when ``text`` is not JSON along the way."""
    if _flat(text, pointer):
        return _flat_span(text, pointer[1:])
    return walked_span(text, pointer)


def _flat(text: str, pointer: str) -> bool:
    """Whether ``text`` is one flat object without a backslash, and ``pointer`` names one of
    its members plainly: most events with a finding. There every ``"`` opens or closes a
    string, so a key is found by searching (:func:`_flat_span`) instead of walking members."""
    return (
        text[:1] == "{"
        and text.rstrip()[-1:] == "}"
        and text.find("{", 1) < 0
        and "[" not in text
        and "\\" not in text
        and pointer.count("/") == 1
        and "~" not in pointer
        and '"' not in pointer
    )


def _flat_span(text: str, token: str) -> Span | None:
    """:func:`walked_span` of member ``token`` of the flat object ``text`` (see :func:`_flat`):
    an occurrence of ``"token"`` after an even number of quotes is a string of the object's
    own, and it is the key when a colon follows it."""
    quoted = f'"{token}"'
    at = text.find(quoted)
    while at >= 0:
        after = _skip_space(text, at + len(quoted))
        if text.count('"', 0, at) % 2 == 0 and text[after : after + 1] == ":":
            try:
                return at + 1, _value_end(text, _skip_space(text, after + 1)) + 1
            except (ValueError, IndexError, StopIteration):
                return None
        at = text.find(quoted, at + 1)
    return 1, len(text.rstrip()) + 1  # absent: the whole object


def walked_span(text: str, pointer: str) -> Span | None:
    """:func:`field_span` by walking each member on the way to the field."""
    try:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]] if pointer else []
        value = _skip_space(text, 0)
        # The whole line, less its white space: not parsed (the check found it JSON already).
        span = (value, len(text.rstrip()))
        for token in tokens:
            member = _member(text, value, token)
            if member is None:  # absent: the object (or array) that lacks it
                break
            first, value, end = member
            span = (first, end)
        return span[0] + 1, span[1] + 1
    except (ValueError, IndexError, RecursionError, StopIteration):
        return None


def _skip_space(text: str, index: int) -> int:
    return _SPACES.match(text, index).end()  # type: ignore[union-attr]  # matches "" at worst


def _value_end(text: str, index: int) -> int:
    try:
        return int(_SCAN(text, index)[1])
    except StopIteration:  # how the scanner says there is no value here
        raise ValueError("no JSON value") from None


def _member(text: str, index: int, token: str) -> tuple[int, int, int] | None:
    """``(first, value, end)`` of the member ``token`` of the object or array at ``index``:
    where it begins (an object member at its key), where its value begins, and where it
    ends; ``None`` when there is no such member. A line with a repeated key has a finding of
    its own (C104) and no other, so the first member of the name is the only one."""
    opening = text[index]
    if opening not in "{[":
        return None
    at = _skip_space(text, index + 1)
    position = 0
    while text[at] not in "}]":
        first = at
        if opening == "{":
            key, at = _SCAN(text, at)
            at = _skip_space(text, at)
            if text[at] != ":":
                raise ValueError("no colon after a key")
            at = _skip_space(text, at + 1)
            hit = key == token
        else:
            hit = token == str(position)
        end = _value_end(text, at)
        if hit:
            return first, at, end
        at = _skip_space(text, end)
        if text[at] == ",":
            at = _skip_space(text, at + 1)
        position += 1
    return None
