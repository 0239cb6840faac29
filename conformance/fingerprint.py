"""What makes two findings the same defect: a fingerprint that survives recording a capture again.

A capture recorded again holds the same defects at other lines, in other sessions, at other
times. So a finding's fingerprint is made of what names the defect, never of what changes
from call to call:

* its rule (``S202``);
* its event name: the ``action``, webhook type or daily-python handler (``dialout-connected``);
* its JSON pointer (``/sessionId``), the field at fault;
* the kind of defect: its message with every value blanked (:func:`defect_kind`): the
  session id, any quoted text (``"+12098888888"``, ``'x@sip.daily.co'``) and any number
  (line numbers, timestamps, lengths). What is left says what kind of wrong it is:
  ``'sessionId' should be a string but is a number #`` stays apart from ``… but is null``.

Baselines (:mod:`conformance.baseline`) match findings by these four parts; SARIF and GitLab
reports carry their digest (:func:`fingerprint`).
"""

from __future__ import annotations

import functools
import hashlib
import re

from .findings import Finding

#: Double-quoted text (a JSON value as messages show it, perhaps cut short with "…").
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\…]|\\.)*["…]')
#: Single-quoted text (a Python repr of a value or a name), not an apostrophe inside a word.
_SINGLE_QUOTED = re.compile(r"(?<![A-Za-z])'(?:[^'\\]|\\.)*'")
_HEX = re.compile(r"\b0x[0-9A-Fa-f]+\b")
_NUMBER = re.compile(r"[0-9][0-9,._]*")


def defect_kind(finding: Finding) -> str:
    """The finding's message with its values blanked: the session id as ``<session>``, quoted
    text as ``"…"`` or ``'…'``, numbers as ``#``."""
    text = finding.message
    session_id = finding.session_id
    if session_id and session_id in text:
        text = _blank_word(text, session_id, "<session>")
    return _values_blanked(text)


@functools.lru_cache(maxsize=4096)
def _values_blanked(text: str) -> str:
    """``text`` with quoted text and numbers blanked. A defect that repeats repeats its
    message, so they are remembered (a bounded number): keyed by the text alone, once its
    session id is blanked, a message that does not name its session is remembered once for
    all sessions."""
    if '"' in text:
        text = _DOUBLE_QUOTED.sub('"…"', text)
    if "'" in text:
        text = _SINGLE_QUOTED.sub("'…'", text)
    if "0x" in text:
        text = _HEX.sub("0x#", text)
    return _NUMBER.sub("#", text)


def _blank_word(text: str, word: str, blank: str) -> str:
    """``text`` with each occurrence of ``word`` that stands as a word of its own (an id "s"
    must not blank every "s") replaced by ``blank``."""
    out, at = [], 0
    while (found := text.find(word, at)) >= 0:
        end = found + len(word)
        before = text[found - 1] if found else " "
        after = text[end] if end < len(text) else " "
        if _word_part(before) or _word_part(after):
            out.append(text[at:end])
        else:
            out.append(text[at:found] + blank)
        at = end
    out.append(text[at:])
    return "".join(out)


def _word_part(char: str) -> bool:
    return char.isalnum() or char in "_-"


def defect_key(finding: Finding) -> tuple[str, str, str, str]:
    """``(rule, event name, pointer, kind)``: the parts a baseline entry matches on ("" for none)."""
    return finding.rule, finding.action or "", finding.pointer or "", defect_kind(finding)


def fingerprint(finding: Finding) -> str:
    """A digest of :func:`defect_key`, the same for the same defect in any recording of it."""
    return digest(defect_key(finding))


@functools.lru_cache(maxsize=4096)  # a defect that repeats repeats its key
def digest(key: tuple[str, str, str, str]) -> str:
    """The hex digest of a defect key (32 hex digits)."""
    return hashlib.sha256("\x1f".join(key).encode("utf-8", "surrogatepass")).hexdigest()[:32]
