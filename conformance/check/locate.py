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

import dataclasses
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
_SPACE_CHARACTERS = " \t\r\n"  # "" is in it too: at the end of the text, _skip_space decides


def placed(raw: bytes, findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` of the line ``raw``, each that names a field with that field's span
    (``Finding.span``; see :func:`field_span`); a line longer than :data:`MAX_LOCATED_BYTES`,
    or one the walk cannot follow, leaves them as they are. The line is decoded only for a
    finding that names a field, and the list given is returned when no finding changes."""
    out = findings if isinstance(findings, list) else list(findings)
    if len(raw) > MAX_LOCATED_BYTES:
        return out
    given = out
    text = None
    for index, finding in enumerate(given):
        pointer = finding.pointer
        if pointer is None:
            continue
        if text is None:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
        span = field_span(text, pointer)
        if span is not None:
            if out is given:
                out = given.copy()
            out[index] = _with_span(finding, span)
    return out


def _slot_setter(name: str) -> Any:
    return Finding.__dict__[name].__set__


# A placed finding is a copy of the finding with its span: built slot by slot, as
# Finding(...) (whose frozen __init__ sets each field through object.__setattr__) costs twice
# as much and dataclasses.replace several times as much, on every placed finding.
_NEW: Any = object.__new__
_COPIED = ("line", "rule", "severity", "message", "pointer", "action", "session_id", "hint", "known")
if tuple(f.name for f in dataclasses.fields(Finding)) != (*_COPIED, "span"):  # pragma: no cover
    raise AssertionError("Finding's fields changed: _with_span must copy each of them")
_LINE, _RULE, _SEVERITY, _MESSAGE, _POINTER, _ACTION, _SESSION, _HINT, _KNOWN, _SPAN = map(
    _slot_setter, (*_COPIED, "span")
)


def _with_span(f: Finding, span: Span) -> Finding:
    """``dataclasses.replace(f, span=span)``, faster."""
    placed: Finding = _NEW(Finding)
    _LINE(placed, f.line)
    _RULE(placed, f.rule)
    _SEVERITY(placed, f.severity)
    _MESSAGE(placed, f.message)
    _POINTER(placed, f.pointer)
    _ACTION(placed, f.action)
    _SESSION(placed, f.session_id)
    _HINT(placed, f.hint)
    _KNOWN(placed, f.known)
    _SPAN(placed, span)
    return placed


def field_span(text: str, pointer: str) -> Span | None:
    """The span (see :func:`locate`) of the field ``pointer`` names in the JSON ``text``, or
    ``None`` when ``text`` is not JSON along the way."""
    if _searchable(text, pointer):
        found, span = _searched_span(text, pointer[1:])
        if found:
            return span
    return walked_span(text, pointer)


def _searchable(text: str, pointer: str) -> bool:
    """Whether ``text`` is an object without a backslash, and ``pointer`` names one of its
    members plainly: most events with a finding. There every ``"`` opens or closes a string,
    so a member before the first nested object or array is found by searching for its key
    (:func:`_searched_span`) instead of walking members."""
    return (
        pointer.count("/") == 1
        and "~" not in pointer
        and '"' not in pointer
        and text[:1] == "{"
        and "\\" not in text
        and text.rstrip()[-1:] == "}"
    )


def _searched_span(text: str, token: str) -> tuple[bool, Span | None]:
    """``(True, span)`` with :func:`walked_span` of member ``token`` of the object ``text`` (see
    :func:`_searchable`), or ``(False, None)`` when a search cannot tell it. Before the first
    nested ``{`` or ``[`` everything is the object's own (a string holding one ends the search
    there too): an occurrence of ``"token"`` there after an even number of quotes is a string
    of the object's own, and it is the key when a colon follows it. Absent from an object with
    nothing nested, the span is the whole object."""
    brace, bracket = text.find("{", 1), text.find("[")
    nested = min(brace, bracket) if brace >= 0 and bracket >= 0 else max(brace, bracket)
    flat = nested < 0
    if flat:
        nested = len(text)
    quoted = f'"{token}"'
    at = text.find(quoted)
    if at < 0:  # nowhere, so not a key of the object's: the whole object, which lacks it
        return True, (1, len(text.rstrip()) + 1)
    while 0 <= at < nested:
        after = at + len(quoted)
        if text[after : after + 1] != ":":
            after = _skip_space(text, after)
        if text[after : after + 1] == ":" and text.count('"', 0, at) % 2 == 0:
            value = after + 1
            if text[value : value + 1] in _SPACE_CHARACTERS:
                value = _skip_space(text, value)
            try:
                return True, (at + 1, _value_end(text, value) + 1)
            except (ValueError, IndexError, StopIteration, RecursionError):
                return True, None
        at = text.find(quoted, at + 1)
    if flat:
        return True, (1, len(text.rstrip()) + 1)  # absent: the whole object
    return False, None


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
