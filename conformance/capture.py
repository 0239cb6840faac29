"""Reading a capture: one JSON value per line, from a file, a gzip file or standard input.

:func:`read_capture` turns a byte stream into ``(line, object)`` pairs and syntax
:class:`~conformance.findings.Finding` values. It never raises once the stream is open:
a bad line becomes a finding and reading goes on with the next one, and a stream that
breaks off (a truncated gzip file) ends with one finding. Every physical line is counted
in :class:`LineCounts`, so a report can account for each one.

Memory stays bounded: a line longer than ``max_line_bytes`` is skipped in chunks, never
held whole.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from . import rules
from .findings import Finding, json_pointer

CAPTURE_SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")
DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024
#: Lines are read, and over-long lines skipped, in blocks of this size (see :func:`read_lines`).
BLOCK_BYTES = 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_UNPARSED = object()
GZIP_MAGIC = b"\x1f\x8b"
_CHAR_AT = re.compile(r"line \d+ column (\d+) \(char (\d+)\)")
_NON_FINITE = re.compile(r"-?[0-9A-Za-z.+-]+")


class CaptureUnreadable(Exception):
    """The capture cannot be opened at all (missing, a folder with no captures, no permission)."""


@dataclass
class LineCounts:
    """How every physical line of a capture was accounted for.

    ``lines == blank + objects + rejected``, where ``rejected`` counts lines that could not
    be parsed into an object (each of them has a finding).
    """

    lines: int = 0
    blank: int = 0
    objects: int = 0
    rejected: int = 0


def capture_files(path: str) -> list[str]:
    """The capture files a command-line PATH names: a file, ``-``, or a folder's captures.

    Raises :class:`CaptureUnreadable` for a path that does not exist or a folder that holds
    no ``*.ndjson``/``*.jsonl`` (optionally ``.gz``) file.
    """
    if path == "-":
        return ["-"]
    p = Path(path)
    if p.is_dir():
        found = sorted(str(f) for f in p.rglob("*") if f.is_file() and f.name.endswith(CAPTURE_SUFFIXES))
        if not found:
            raise CaptureUnreadable(f"{path}: folder holds no captures (*.ndjson, *.jsonl, optionally .gz)")
        return found
    if not p.exists():
        raise CaptureUnreadable(f"{path}: no such file or folder")
    return [path]


def open_capture(path: str) -> IO[bytes]:
    """Open a capture for binary reading; gzip is recognised by its magic bytes, not its name."""
    try:
        raw: Any = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise CaptureUnreadable(f"{path}: cannot open: {exc.strerror or exc}") from None
    try:
        head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    except OSError as exc:
        raise CaptureUnreadable(f"{path}: cannot read: {exc.strerror or exc}") from None
    if head == GZIP_MAGIC:
        gz = gzip.GzipFile(fileobj=raw, mode="rb")
        if path != "-":
            gz.myfileobj = raw  # closing the GzipFile then closes the file too (no leaked descriptor)
        return gz  # type: ignore[return-value]
    return raw  # type: ignore[no-any-return]


class ProgressStream:
    """A capture stream that reports, at each block read, how far into the file reading has got.

    A pipe or a FIFO has no position to report (``tell`` fails): reading it goes on without
    progress, never with a read error.
    """

    def __init__(self, stream: Any, update: Any) -> None:
        self.stream = stream
        # For gzip, progress follows the compressed file, whose size is what we know.
        self.raw = getattr(stream, "fileobj", None) or stream
        self.update = update

    def read1(self, size: int = -1) -> bytes:
        if self.update is not None:
            try:
                position = self.raw.tell()
            except (OSError, ValueError):  # not seekable: no progress to show
                self.update = None
            else:
                self.update(position)
        return self.stream.read1(size)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.stream.close()


def read_capture(
    stream: IO[bytes], counts: LineCounts, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Iterator[tuple[int, dict[str, Any]] | Finding]:
    """Yield ``(line_number, object)`` for each JSON object and a Finding for each bad line.

    Arguments:
        stream: a binary stream, as from :func:`open_capture`.
        counts: updated in place as lines are read.
        max_line_bytes: longer lines are skipped with a ``C107`` finding.
    """
    done = line_no = 0  # lines of whole batches read; the last line reached
    first = 1  # the first line of the batch being read (past line_no between batches)
    try:
        for item in read_lines(stream, counts, max_line_bytes):
            if type(item) is not tuple:
                yield item  # type: ignore[misc]
                continue
            first, batch = item
            for line_no, raw in enumerate(batch, first):
                obj, findings = parse_line(line_no, raw, counts)
                yield from findings
                if obj is not None:
                    yield line_no, obj
            done += len(batch)
            first = line_no + 1
    finally:
        # A batch's lines are counted as they are reached (see read_lines).
        counts.lines += done + line_no - first + 1


#: A run of consecutive lines: the number of the first, and the lines without their ``\n``.
LineBatch = tuple[int, list[bytes]]


def read_lines(
    stream: IO[bytes], counts: LineCounts, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Iterator[LineBatch | Finding]:
    """Yield the capture's physical lines in batches, to be parsed by :func:`parse_line` (or
    proved valid without parsing, :mod:`.fastpath`), and a Finding for each line that
    cannot be handed on.

    Lines come in batches because a capture can hold millions: splitting a block of the
    file in one call, and looping over a list, costs far less per line than a Python call
    to ``readline`` and a generator step for each. ``read1`` returns what is there, so a
    capture streamed through standard input is checked as it arrives.

    A line longer than ``max_line_bytes`` is skipped in bounded pieces with a ``C107``
    finding; a stream that breaks off (a truncated gzip file, an I/O error) ends with one
    ``C110`` finding. Each of those lines is counted here, as rejected; the lines of a
    batch are counted by the consumer as it reaches them, so that the counts stay exact
    when it stops early. Memory stays below ``max_line_bytes`` plus one block.
    """
    read = getattr(stream, "read1", None) or stream.read
    line_no = 0  # lines handed on so far; the next one is line_no + 1
    # The start of a line whose end is not read yet, in the pieces it came in: joined once
    # when its end comes, since re-joining at every small read1 would cost time quadratic
    # in the line's length.
    pieces: list[bytes] = []
    held = 0  # their total size
    carry = b""  # what was read past the end of an over-long line, not split yet
    while True:
        if carry:
            block, carry = carry, b""
        else:
            try:
                block = read(BLOCK_BYTES)
            except (EOFError, OSError, zlib.error) as exc:
                # gzip.BadGzipFile is an OSError; EOFError is a gzip stream cut short.
                yield _broken_off(line_no + 1, exc)
                return
            if not block:
                if pieces:  # a last line with no newline
                    yield from _batch(line_no + 1, [b"".join(pieces)], counts, max_line_bytes)
                    line_no += 1
                return
        if pieces and block.find(b"\n") < 0:
            pieces.append(block)  # the line goes on
            held += len(block)
        else:
            if pieces:
                pieces.append(block)
                block = b"".join(pieces)
                pieces, held = [], 0
            lines = block.split(b"\n")
            rest = lines.pop()
            if lines:
                yield from _batch(line_no + 1, lines, counts, max_line_bytes)
                line_no += len(lines)
            if rest:
                pieces, held = [rest], len(rest)
        if held > max_line_bytes:
            # An over-long line with no end in sight: skip to its end without holding it.
            size = held
            pieces, held = [], 0
            failure: BaseException | None = None
            while True:
                try:
                    block = read(BLOCK_BYTES)
                except (EOFError, OSError, zlib.error) as exc:
                    failure, block = exc, b""  # reported after this line's finding
                end = block.find(b"\n")
                if end >= 0:
                    size += end + 1
                    carry = block[end + 1 :]  # the lines after it, read on as usual
                    break
                size += len(block)
                if not block:
                    break
            line_no += 1
            counts.lines += 1
            counts.rejected += 1
            yield _too_long(line_no, size, max_line_bytes)
            if failure is not None:
                yield _broken_off(line_no + 1, failure)
                return


def _batch(first: int, lines: list[bytes], counts: LineCounts, max_line_bytes: int) -> Iterator[LineBatch | Finding]:
    """``(first, lines)``, or, when some of them are too long, the rest around their ``C107``s."""
    if max(map(len, lines)) <= max_line_bytes:
        yield first, lines
        return
    start = 0
    for index, raw in enumerate(lines):
        if len(raw) > max_line_bytes:
            if index > start:
                yield first + start, lines[start:index]
            counts.lines += 1
            counts.rejected += 1
            yield _too_long(first + index, len(raw) + 1, max_line_bytes)  # + 1: its newline
            start = index + 1
    if start < len(lines):
        yield first + start, lines[start:]


def _broken_off(line_no: int, exc: BaseException) -> Finding:
    return rules.UNREADABLE.finding(
        line_no,
        # No line number in the text: the finding's own line says where, also when a
        # worker read this as a piece of the file (conformance/parallel.py).
        f"the capture breaks off here: {_describe_read_error(exc)}; the lines before it were checked",
    )


def _too_long(line_no: int, size: int, max_line_bytes: int) -> Finding:
    return rules.LINE_TOO_LONG.finding(
        line_no,
        f"line is {size:,} bytes long, over the {max_line_bytes:,}-byte limit; it was skipped",
    )


_NO_FINDINGS: tuple[Finding, ...] = ()


def parse_line(line_no: int, raw: bytes, counts: LineCounts) -> tuple[dict[str, Any] | None, Sequence[Finding]]:
    """One line's object (``None`` for a blank line or one that is not a JSON object) and its
    syntax findings; ``counts`` says which of blank, object or rejected the line was."""
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
                counts.blank += 1
                return None, bom
            counts.rejected += 1
            return None, [*bom, _parse_failure(raw, line_no, reason)]
    findings = _object_findings(line_no, raw, obj, counts)
    return (obj if type(obj) is dict else None), ([*bom, *findings] if bom else findings)


def _object_findings(line_no: int, raw: bytes, obj: Any, counts: LineCounts) -> Sequence[Finding]:
    """``C102`` for a value that is not an object; ``C105`` for an object repeating a key."""
    if type(obj) is not dict:
        counts.rejected += 1
        return [
            rules.NOT_AN_OBJECT.finding(
                line_no,
                f"line is a JSON {_json_kind(obj)}, not an object; every Daily event is an object",
            )
        ]
    counts.objects += 1
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
            f"key {dup[1]!r} appears more than once in one object; parsers disagree on which "
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


def _describe_read_error(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the gzip stream ends early (truncated file?)"
    if isinstance(exc, (zlib.error, gzip.BadGzipFile)):
        return f"the gzip data is corrupt ({exc})"
    return f"read error ({exc})"


def _json_kind(obj: Any) -> str:
    if isinstance(obj, list):
        return "array"
    if isinstance(obj, str):
        return "string"
    if isinstance(obj, bool):
        return "boolean"
    if obj is None:
        return "null"
    return "number"


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
