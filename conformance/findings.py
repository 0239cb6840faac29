"""What the checker reports: a :class:`Finding` is one problem at one line of a capture.

Findings are plain data. Renderers (``report.py``) decide how they look; nothing here
knows about terminals, pytest or argparse.
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Severity(str, Enum):
    """How bad a finding is. ``error`` fails a check; ``warning`` fails only under strict."""

    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation of one rule, at one physical line of a capture.

    Arguments:
        line: 1-based physical line number in the capture (0 for the capture as a whole).
        rule: the stable rule id (``S201``, ``L303`` …), see :data:`conformance.rules.RULES`.
        severity: :class:`Severity`.
        message: one sentence a tired on-call engineer understands.
        pointer: JSON pointer (RFC 6901) of the offending field inside the line, if any.
        action: the event's ``action``, if it had one.
        session_id: the event's ``sessionId``, if it had one.
        hint: what to do about it, if there is something to say.
        known: set when a baseline lists this defect (:mod:`conformance.baseline`): the
            reason its entry gives ("" for none). A known finding is reported, never fails.
        span: where its field sits on its line, ``(first column, column after it)``, counted
            in characters from 1; only with ``Options.columns`` (:mod:`.check.locate`).
    """

    line: int
    rule: str
    severity: Severity
    message: str
    pointer: str | None = None
    action: str | None = None
    session_id: str | None = None
    hint: str | None = None
    known: str | None = None
    span: tuple[int, int] | None = None

    def message_with_hint(self) -> str:
        """The message, and its hint in parentheses: for reports with one text per finding."""
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message

    def known_note(self) -> str:
        """`` [known: reason]`` (or `` [known]``) for a finding a baseline lists, else ``""``."""
        if self.known is None:
            return ""
        return f" [known: {self.known}]" if self.known else " [known]"

    def moved(self, lines: int) -> Finding:
        """The same finding ``lines`` further down (a range's finding, in its whole capture)."""
        return Finding(
            self.line + lines,
            self.rule,
            self.severity,
            self.message,
            self.pointer,
            self.action,
            self.session_id,
            self.hint,
            self.known,
            self.span,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Findings cross from worker processes by the thousand: sent as a constructor call,
        # with the severity as its text (see README, "How it is built").
        return _finding, (
            self.line,
            self.rule,
            self.severity.value,
            self.message,
            self.pointer,
            self.action,
            self.session_id,
            self.hint,
            self.known,
            self.span,
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's form (see ``schemas/report.schema.json``); absent keys are omitted."""
        out: dict[str, Any] = {
            "line": self.line,
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.pointer is not None:
            out["pointer"] = self.pointer
        if self.action is not None:
            out["action"] = self.action
        if self.session_id is not None:
            out["sessionId"] = self.session_id
        if self.hint is not None:
            out["hint"] = self.hint
        if self.known is not None:
            out["known"] = self.known
        return out


_SEVERITIES = {severity.value: severity for severity in Severity}


def _finding(line: int, rule: str, severity: str, *rest: Any) -> Finding:
    """A finding read back from a pickle (:meth:`Finding.__reduce__`)."""
    return Finding(line, rule, _SEVERITIES[severity], *rest)


def json_pointer(path: tuple[str | int, ...] | list[str | int]) -> str:
    """RFC 6901 pointer for a path of keys and indexes (``~`` and ``/`` escaped)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


#: How long a name or an id taken from a capture may be in a message; longer ones are cut.
NAME_LIMIT = 80
#: How long any text field of a finding may be: the last bound on what a capture can make
#: the checker keep or print, whatever a message quotes.
FIELD_LIMIT = 2000


def cut(text: str, limit: int = NAME_LIMIT) -> str:
    """``text``, or when it is longer than ``limit`` characters, its start with "…" and its
    full length, in ``limit`` characters."""
    if len(text) <= limit:
        return text
    tail = f"… ({len(text):,} characters)"
    return text[: max(limit - len(tail), 1)] + tail


def show_value(value: Any, limit: int = 60) -> str:
    """A short, JSON-looking rendering of a value for messages."""
    import json

    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # a value nested ~1000 deep: bounded instead
        text = bounded_repr(value)
    else:
        # One escape style in every message: JSON's \u001b for a control character becomes
        # \x1b, as conformance.escape writes the characters JSON leaves alone.
        text = _JSON_CONTROL.sub(lambda m: f"{m[1]}\\x{m[2]}", text)
    if len(text) <= limit:
        return text
    if isinstance(value, str):  # cut inside the quotes, so a reader still sees a string
        return text[: limit - 2] + '…"'
    return text[: limit - 1] + "…"


def quoted(text: str, limit: int = NAME_LIMIT) -> str:
    """A name or string from a capture as messages quote it, one way throughout: JSON's double
    quotes (``"sipEndpoint"``), cut to ``limit`` characters with its full length said."""
    return show_value(cut(text, limit), limit + 2)


#: JSON's escape of a C0 control character (not preceded by an escaped backslash).
_JSON_CONTROL = re.compile(r"(?<!\\)((?:\\\\)*)\\u00([01][0-9a-fA-F])")

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60


def bounded_repr(value: Any) -> str:
    """``repr`` cut short in depth and length: safe for a value nested a thousand levels deep,
    where ``repr`` and ``json.dumps`` raise RecursionError."""
    return _REPR.repr(value)


#: JSON type names of the Python values a JSON parser builds (``bool`` before ``int``: a subclass).
_JSON_TYPES = (
    (bool, "boolean"),
    (int, "number"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def json_type(value: Any) -> str:
    """The JSON type of a Python value decoded from JSON: ``"array"``, ``"null"`` …"""
    if value is None:
        return "null"
    for kind, name in _JSON_TYPES:
        if isinstance(value, kind):
            return name
    return type(value).__name__  # pragma: no cover


def describe_type(value: Any) -> str:
    """:func:`json_type` as a message says it: ``"an array"``, ``"a number"``, ``"null"``."""
    name = json_type(value)
    if name == "null":
        return name
    return ("an " if name[0] in "aeiou" else "a ") + name
