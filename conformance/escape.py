"""Text from a capture or a file name, made safe to print.

A capture is someone else's file: a ``sessionId`` holding ESC sequences would drive the
reader's terminal, and one holding a newline could start an output line of its own (a forged
finding, or a GitHub workflow command such as ``::add-mask::``). Every character that
``str.isprintable`` rejects (C0 and C1 controls, line and paragraph separators, bidi
overrides, lone surrogates) is shown as a Python-style escape, so no capture content can
start a line or reach the terminal raw.
"""

from __future__ import annotations

import os


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\n``, ``\\x1b``, ``\\u202e``);
    a file name's undecodable bytes (surrogate escapes) become ``\\xff``."""
    if text.isprintable():  # the common case, at C speed
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def display_path(path: str | bytes | os.PathLike[str]) -> str:
    """A file name as reports show it: decoded as the file system does, then :func:`printable`
    (a non-UTF-8 name's bytes as ``\\xNN``, which JSON and XML can hold)."""
    return printable(os.fsdecode(path))


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
