"""Reading a capture: its physical lines, from a file, a gzip file or standard input.

:func:`read_lines` turns a byte stream into batches of lines for the line stage
(:mod:`.lines`). It never raises once the stream is open: a line too long to hold is
skipped with a finding, and a stream that breaks off (a truncated gzip file, an I/O error)
ends with one finding. Memory stays bounded: a line longer than ``max_line_bytes`` is
skipped in pieces, never held whole.
"""

from __future__ import annotations

import gzip
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from .. import rules
from ..escape import display_path
from ..findings import Finding
from ..options import DEFAULT_MAX_LINE_BYTES
from .tally import Tally

CAPTURE_SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")
#: Lines are read, and over-long lines skipped, in blocks of this size (see :func:`read_lines`).
BLOCK_BYTES = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class CaptureUnreadable(Exception):
    """The capture cannot be opened at all (missing, a folder with no captures, no permission)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{display_path(path)}: {reason}")
        self.path = path
        self.reason = reason


@dataclass
class CaptureScan:
    """What the paths of a command line name: capture files to check, in order, and what a
    folder scan left out. Nothing is skipped silently (issue: an unreadable subfolder passed)."""

    #: Capture files, and paths that could not be read (also in :attr:`unreadable`), in order.
    files: list[str] = field(default_factory=list)
    #: Why each path that could not be read (a folder without permission, say) could not be.
    unreadable: dict[str, str] = field(default_factory=dict)
    #: Files found in folders that are not named as captures.
    skipped: list[str] = field(default_factory=list)


def scan_paths(paths: list[str]) -> CaptureScan:
    """The capture files that command-line PATHs name: a file (whatever its name), ``-``, or
    a folder's ``*.ndjson``/``*.jsonl`` files (optionally ``.gz``), recursively.

    A folder or file that cannot be read is kept, with the reason, as ``grep -r`` reports
    it. Raises :class:`CaptureUnreadable` for a path that does not exist, or a readable
    folder that holds no capture.
    """
    scan = CaptureScan()
    for path in paths:
        if path == "-" or not os.path.isdir(path):
            if path != "-" and not os.path.lexists(path):
                raise CaptureUnreadable(path, "no such file or folder")
            scan.files.append(path)
            continue
        found: list[str] = []
        unreadable: dict[str, str] = {}

        def note(exc: OSError, unreadable: dict[str, str] = unreadable) -> None:
            unreadable[exc.filename] = exc.strerror or str(exc)

        for folder, _, names in os.walk(path, onerror=note):
            for name in names:
                full = os.path.join(folder, name)
                (found if name.endswith(CAPTURE_SUFFIXES) else scan.skipped).append(full)
        if not found and not unreadable:
            raise CaptureUnreadable(path, "folder holds no captures (*.ndjson, *.jsonl, optionally .gz)")
        scan.files += sorted([*found, *unreadable])
        scan.unreadable.update(unreadable)
    return scan


def capture_files(path: str) -> list[str]:
    """The capture files one command-line PATH names (:func:`scan_paths`), readable or not."""
    return scan_paths([path]).files


class CaptureShrank(OSError):
    """The capture file got shorter while it was being read (truncated under the check)."""


class WatchedFile:
    """A capture file that, at its end, checks it has not shrunk since it was opened.

    A file truncated at a line boundary under the check otherwise just ends early, and the
    lines after the cut would pass unseen. Reading past the end raises :class:`CaptureShrank`
    instead, which :func:`read_lines` reports as ``C110`` where reading stopped.
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.size = os.fstat(raw.fileno()).st_size

    def read1(self, size: int = -1) -> bytes:
        block: bytes = self.raw.read1(size)
        return block or self._ended()

    def read(self, size: int = -1) -> bytes:
        block: bytes = self.raw.read(size)
        return block or self._ended()

    def _ended(self) -> bytes:
        now = os.fstat(self.raw.fileno()).st_size
        if now < self.size:
            raise CaptureShrank(f"the file shrank from {self.size:,} to {now:,} bytes while it was being checked")
        return b""

    def peek(self, size: int = 0) -> bytes:
        return self.raw.peek(size)  # type: ignore[no-any-return]

    def tell(self) -> int:
        return self.raw.tell()  # type: ignore[no-any-return]

    def fileno(self) -> int:
        return self.raw.fileno()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.raw.close()


def open_capture(path: str) -> IO[bytes]:
    """Open a capture for binary reading; gzip is recognised by its magic bytes, not its name.

    A regular file is watched for being truncated while it is read (:class:`WatchedFile`).
    """
    try:
        raw: Any = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
        if path != "-" and stat.S_ISREG(os.fstat(raw.fileno()).st_mode):
            raw = WatchedFile(raw)
    except OSError as exc:
        raise CaptureUnreadable(path, f"cannot open: {exc.strerror or exc}") from None
    try:
        head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    except OSError as exc:
        raise CaptureUnreadable(path, f"cannot read: {exc.strerror or exc}") from None
    if head == GZIP_MAGIC:
        counted: Any = _Counted(raw)
        gz = gzip.GzipFile(fileobj=counted, mode="rb")
        if path != "-":
            gz.myfileobj = counted  # closing the GzipFile then closes the file too (no leaked descriptor)
        return _BombGuard(gz, counted)  # type: ignore[return-value]
    return raw  # type: ignore[no-any-return]


#: gzip that inflates past this size (bytes) and this ratio is refused as a decompression bomb:
#: deflate packs at most about 1,032 to 1, and only degenerate data (one byte repeated) comes
#: near it; recorded events, even all alike, stay under 300 to 1.
BOMB_BYTES = 1024**3
BOMB_RATIO = 500


class DecompressionBomb(OSError):
    """A gzip capture that inflates beyond :data:`BOMB_RATIO` times its size."""


class _Counted:
    """A compressed stream that counts the bytes read from it."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.raw.read(size)
        self.read_bytes += len(data)
        return data

    def tell(self) -> int:
        return self.raw.tell()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.raw.close()


class _BombGuard:
    """A gzip capture's decompressed stream, refused (:class:`DecompressionBomb`, then ``C110``)
    once it has inflated past :data:`BOMB_BYTES` at more than :data:`BOMB_RATIO` to 1."""

    def __init__(self, gz: gzip.GzipFile, counted: _Counted) -> None:
        self.gz = gz
        self.counted = counted
        self.fileobj = counted  # where progress is read (ProgressStream)
        self.inflated = 0

    def read1(self, size: int = -1) -> bytes:
        block = self.gz.read1(size)
        self.inflated += len(block)
        if self.inflated > BOMB_BYTES and self.inflated > BOMB_RATIO * self.counted.read_bytes:
            raise DecompressionBomb(
                f"{self.counted.read_bytes:,} compressed bytes inflate to more than {self.inflated:,}, "
                f"over {BOMB_RATIO:,} to 1: a decompression bomb, not a capture of events"
            )
        return block

    def close(self) -> None:
        self.gz.close()


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


#: A run of consecutive lines: the number of the first, and the lines without their ``\n``.
LineBatch = tuple[int, list[bytes]]


def read_lines(
    stream: IO[bytes], counts: Tally, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Iterator[LineBatch | Finding]:
    """Yield the capture's physical lines in batches, and a Finding for each line that cannot
    be handed on.

    Lines come in batches, split from a block of the file in one call, so that a capture of
    millions of lines costs no Python call per line here. ``read1`` returns what is there,
    so a capture streamed through standard input is checked as it arrives.

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
            if _crowded(block):  # maybe runs of blank lines (a newline bomb): counted in C
                end = block.rfind(b"\n") + 1
                rest = block[end:]
                for part in _around_blank_runs(block, end):
                    if type(part) is int:
                        counts.lines += part
                        counts.blank_lines += part
                        line_no += part
                    else:
                        yield from _batch(line_no + 1, part, counts, max_line_bytes)  # type: ignore[arg-type]
                        line_no += len(part)  # type: ignore[arg-type]
            else:
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
            counts.rejected_lines += 1
            yield _too_long(line_no, size, max_line_bytes)
            if failure is not None:
                yield _broken_off(line_no + 1, failure)
                return


#: How many of a block's first and last bytes are looked at for runs of blank lines.
_SAMPLE = 4096
#: More line ends than this in a sample, and the block is searched for runs of blank lines.
_CROWDED = _SAMPLE // 16
#: A run of blank lines: the end of a line, then empty or CR-only lines, each ended (a class,
#: not a group, so that the regular expression engine runs through it without backtracking).
_BLANK_RUN = re.compile(rb"\n[\r\n]*\n")


def _crowded(block: bytes) -> bool:
    """Whether ``block`` looks like it holds very short lines (sampled at both ends): only
    then is it worth searching for runs of blank lines."""
    return block.count(b"\n", 0, _SAMPLE) > _CROWDED or block.count(b"\n", max(0, len(block) - _SAMPLE)) > _CROWDED


def _around_blank_runs(block: bytes, end: int) -> Iterator[list[bytes] | int]:
    """The lines of ``block[:end]`` (whole lines), in order: lists of lines, and the number of
    lines in each run of blank lines between them, counted instead of handed on one by one (a
    gigabyte of newlines would otherwise cost a Python step per line)."""
    pos = 0
    for run in _BLANK_RUN.finditer(block, 0, end):
        start, stop = run.span()
        if block.find(b"\r\r", start, stop) >= 0:
            continue  # a line of several CRs: blank too, but it may be over-long (C107), so it goes on as a line
        yield block[pos:start].split(b"\n")  # up to the line that the run's first newline ends
        yield stop - start - 1 - block.count(b"\r", start, stop)
        pos = stop
    if pos < end:
        yield block[pos : end - 1].split(b"\n")


def _batch(first: int, lines: list[bytes], counts: Tally, max_line_bytes: int) -> Iterator[LineBatch | Finding]:
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
            counts.rejected_lines += 1
            yield _too_long(first + index, len(raw) + 1, max_line_bytes)  # + 1: its newline
            start = index + 1
    if start < len(lines):
        yield first + start, lines[start:]


def _broken_off(line_no: int, exc: BaseException) -> Finding:
    return rules.UNREADABLE.finding(
        line_no,
        # No line number in the text: the finding's own line says where, also when a
        # worker read this as a piece of the file (parallel.py).
        f"the capture breaks off here: {_describe_read_error(exc)}; the lines before it were checked",
    )


def _too_long(line_no: int, size: int, max_line_bytes: int) -> Finding:
    return rules.LINE_TOO_LONG.finding(
        line_no,
        f"line is {size:,} bytes long, over the {max_line_bytes:,}-byte limit; it was skipped",
    )


def _describe_read_error(exc: BaseException) -> str:
    if isinstance(exc, (CaptureShrank, DecompressionBomb)):
        return str(exc)
    if isinstance(exc, EOFError):
        return "the gzip stream ends early (truncated file?)"
    if isinstance(exc, (zlib.error, gzip.BadGzipFile)):
        return f"the gzip data is corrupt ({exc})"
    return f"read error ({exc})"
