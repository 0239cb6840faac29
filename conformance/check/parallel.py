"""Checking one large capture file on several cores.

The line stage (:mod:`.lines`) looks at each line alone, so worker processes run it on
byte ranges of the file, each reading its own range. Each worker then checks its range's
sessions with a tracker of its own (:func:`~.ranges.check_range`), and the calling process
joins the ranges in order (:func:`~.ranges.join`), replaying only the few sessions a range
shares with the ranges before it. The result is the same as checking the file in one
process, finding for finding (a property test holds the two to that). A range with webhook
deliveries sends its records instead: the webhook stage orders deliveries across the whole
capture, so it sees them in the calling process.

Only a plain (uncompressed) regular file can be split: gzip and standard input cannot be
read from the middle, so they are checked in one process.

Why processes and not threads: parsing and schema checks hold the GIL. Why sessions and
not records: the calling process has one core, and feeding it every record would cap the
check at its speed, whatever the number of workers. Records and session tables travel as
``marshal`` data, safe between processes of one interpreter.

Failure is part of the design, because a check runs in CI, where jobs are cancelled and
the OOM killer strikes:

* a range's results go through a private temporary file, and the message on the pipe only
  names it: it is a few hundred bytes, which the pipe writes in one piece, so a worker
  killed halfway through sending cannot leave a half-written message that blocks the
  reader for ever. The findings in that file are written and read back in batches
  (:mod:`.batches`), so that neither process ever holds a whole range's findings (a range
  of ``{}`` lines has a finding per line); a worker that cannot write the file (a full
  temporary folder) makes the rest of the capture be checked in the calling process;
* a worker that dies (killed, out of memory) ends the check with a ``C110`` finding, "the
  lines before it were checked", like a truncated file, never with a hang or a traceback;
* workers ignore Ctrl-C (the terminal sends it to the whole process group): the calling
  process handles it and shuts them down; and a worker whose parent is gone (SIGKILL, a
  cancelled CI job) exits instead of waiting for work for ever;
* each range checks that the file is still the one the check began with (same device and
  inode, not shorter), since workers open it by name: a file rotated, deleted or truncated
  mid-check ends the check with a ``C110`` finding instead of mixing two files.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import functools
import io
import itertools
import marshal
import os
import pickle
import shutil
import signal
import stat
import struct
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .. import rules
from ..findings import Finding
from ..options import Options
from .batches import Batches, BatchWriter
from .gc_tuning import settle
from .lines import check_lines
from .ranges import RangeSessions, check_range
from .reading import BLOCK_BYTES, GZIP_MAGIC, ProgressStream, WatchedFile
from .records import LINE, Record, WebhookItem
from .tally import RangeTally, Tally

#: Below this size a capture is checked in one process: starting workers would cost more.
MIN_PARALLEL_BYTES = 16 * 1024 * 1024
#: The byte range one worker checks at a time: large enough that the per-range overhead
#: (open, seek, one result message) is noise, small enough that results stream steadily.
CHUNK_BYTES = 4 * 1024 * 1024


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return os.cpu_count() or 1


def plan_workers(path: str, jobs: int) -> int:
    """How many worker processes to check ``path`` with; 0 means "in this process".

    ``jobs`` is the user's choice: 1 for one process, N > 1 for N workers, and 0 for the
    default: one worker per available core, for a plain file of at least
    :data:`MIN_PARALLEL_BYTES`.
    """
    if jobs == 1 or path == "-":
        return 0
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return 0  # a pipe or a device cannot be read from the middle
        with open(path, "rb") as f:
            if f.read(2) == GZIP_MAGIC:
                return 0  # gzip cannot be read from the middle
    except OSError:
        return 0  # the one-process path reports why the file cannot be read
    if info.st_size == 0:
        return 0  # empty, or a file that does not know its size (/proc): read it in one go
    if jobs == 0:
        cores = available_cores()
        return cores if cores > 1 and info.st_size >= MIN_PARALLEL_BYTES else 0
    return jobs


@dataclasses.dataclass
class ChunkResult:
    """What a worker found in one byte range, with line numbers counted from the range's first
    line (the caller knows the offset): its sessions checked by a tracker of its own, or,
    for a range with webhook deliveries, its records and findings in line order."""

    tally: Tally
    sessions: RangeSessions | None
    records: bytes  # the records and webhook items, marshalled (when sessions is None)
    findings: Batches  # all of them (the same as sessions.found, when there are sessions)
    end: int  # the byte offset where the range ended, for progress


#: How the file to check is recognised: ``(st_dev, st_ino)``.
FileIdentity = tuple[int, int]


class CaptureChanged(Exception):
    """The capture file was replaced, deleted or truncated while it was being checked."""


def file_identity(path: str) -> FileIdentity:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def check_chunk(
    path: str,
    start: int,
    end: int,
    options: Options,
    identity: FileIdentity | None = None,
    sessions: bool = True,
    out: BatchWriter | None = None,
) -> ChunkResult:
    """Run the line stage on the lines that *begin* in ``[start, end)`` of ``path``.

    A line that begins before ``end`` is read to its end, even past ``end``; the next range
    then skips it. Each range finds its first line itself, so ranges never overlap and no
    line is lost, whatever the line lengths. Raises :class:`CaptureChanged` when the file
    is not ``identity`` any more, or is shorter than ``end``. With ``sessions`` (and no
    webhook delivery in the range), the range's sessions are checked too (:func:`check_range`).
    The findings go to ``out`` as they come (kept in memory without one).
    """
    tally = RangeTally()
    out = out if out is not None else BatchWriter()
    records: list[Any] = []  # and webhook items
    try:
        raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise CaptureChanged("the file was deleted or renamed") from None
    with raw:
        info = os.fstat(raw.fileno())
        if identity is not None and (info.st_dev, info.st_ino) != identity:
            raise CaptureChanged("the file was replaced by another one (rotated?)")
        if info.st_size < end:
            raise CaptureChanged(f"the file shrank to {info.st_size:,} bytes")
        # Small reads: the planner hands ranges that begin and end at a line's start already.
        buffered = io.BufferedReader(raw, buffer_size=64 * 1024)
        first = _line_start(buffered, start)
        last = _line_start(buffered, end)
        raw.seek(first)
        stream = io.BufferedReader(_Range(raw, last - first), buffer_size=BLOCK_BYTES)
        lines = check_lines(stream, tally, options)
        # A slice of the line stage at a time: its findings go on while its records stay,
        # so that a range dense with findings never holds them all.
        while items := list(itertools.islice(lines, _SLICE)):
            kept = [item for item in items if type(item) is not Finding]
            records += kept
            if len(kept) < len(items):
                out.stage([item for item in items if type(item) is Finding])
    if sessions and tuple not in map(type, records):
        checked = check_range(records, tally.lines, options.partial, out, coverage=options.coverage)
        return ChunkResult(tally, checked, b"", checked.found, last)
    return ChunkResult(tally, None, marshal.dumps(records), out.close(), last)


#: Items of the line stage taken at a time in a worker (see :func:`check_chunk`).
_SLICE = 8192


def _check_chunk_to_file(
    path: str, start: int, end: int, options: Options, identity: FileIdentity, folder: str
) -> str:
    """:func:`check_chunk` in a worker: the result goes to a file in ``folder`` (the findings
    in batches as they come, then the rest of the result, then where that begins), and only
    that file's name goes back over the pipe (see the module docstring)."""
    name = ""
    try:
        fd, name = tempfile.mkstemp(dir=folder, suffix=".chunk")
        with os.fdopen(fd, "wb") as f:
            result = check_chunk(path, start, end, options, identity, out=BatchWriter(f))
            where = f.tell()
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.write(_TRAILER.pack(where))
    except OSError as exc:  # a full or failing temporary folder: this machine's problem, not the capture's
        if name:
            with contextlib.suppress(OSError):
                os.unlink(name)
        raise ResultNotWritten(exc.strerror or str(exc)) from None
    return name


#: The last bytes of a result file: where its :class:`ChunkResult` begins.
_TRAILER = struct.Struct("<Q")


class ResultNotWritten(Exception):
    """A worker could not write its range's result to the temporary folder (full, failing)."""


def _reread(path: str, start: int, end: int, options: Options, identity: FileIdentity) -> list[Record]:
    """The records of one range again, read here (see :func:`~.ranges.join`); raises
    :class:`CaptureChanged` when the file is not the one checked any more."""
    try:
        result = check_chunk(path, start, end, options, identity, sessions=False, out=_Discarded())
    except OSError as exc:
        raise CaptureChanged(f"it cannot be read again ({exc.strerror or exc})") from None
    if result.findings.broke_off:
        raise CaptureChanged("it cannot be read again")
    return marshal.loads(result.records)  # type: ignore[no-any-return]


class _Discarded(BatchWriter):
    """Findings not wanted (a range read again for its records): only whether reading broke off."""

    def _put(self, batches: list[Any], batch: Any) -> None:
        pass


def stopped_by_change(line: int, exc: CaptureChanged) -> Finding:
    """``C110`` for a capture that changed while it was being checked."""
    return _stopped(line, f"the capture changed while it was being checked: {exc}")


def _load_chunk(name: str) -> ChunkResult:
    """A worker's result, but for its findings, which are read from the file as they are
    reported (:mod:`.batches`); the file is removed once its range is done."""
    with open(name, "rb") as f:
        f.seek(-_TRAILER.size, os.SEEK_END)
        (where,) = _TRAILER.unpack(f.read(_TRAILER.size))
        f.seek(where)
        result: ChunkResult = pickle.load(f)
    result.findings.path = name
    return result


def check_lines_parallel(
    path: str,
    tally: Tally,
    options: Options,
    workers: int,
    progress: Callable[[int], Any] | None = None,
    executor: Executor | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[Finding | Record | WebhookItem | RangeSessions]:
    """:func:`~.lines.check_lines` for a whole file, with ``workers`` processes.

    Yields exactly what the one-process line stage yields, in the same order, with line
    numbers counted from the top of the file. ``executor`` lets a caller (the tests) reuse
    one pool; ``progress`` is called with the byte offset reached after each range.
    """
    # One range's items at a time, flattened in C: this runs in the one busy process.
    ranges = _ranges_checked(path, tally, options, workers, progress, executor, chunk_bytes)
    return itertools.chain.from_iterable(ranges)


def _ranges_checked(
    path: str,
    tally: Tally,
    options: Options,
    workers: int,
    progress: Callable[[int], Any] | None,
    executor: Executor | None,
    chunk_bytes: int,
) -> Iterator[Iterable[Finding | Record | WebhookItem | RangeSessions]]:
    """The items of :func:`check_lines_parallel`, a range's worth at a time."""
    try:
        identity = file_identity(path)
        size = os.path.getsize(path)
        bounds = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below
    except OSError as exc:
        yield [_unreadable(exc)]
        return
    with bounds:
        yield from _ranges_of(path, size, bounds, tally, options, workers, progress, executor, chunk_bytes, identity)


def _ranges_of(
    path: str,
    size: int,
    bounds: io.FileIO,
    tally: Tally,
    options: Options,
    workers: int,
    progress: Callable[[int], Any] | None,
    executor: Executor | None,
    chunk_bytes: int,
    identity: FileIdentity,
) -> Iterator[Iterable[Finding | Record | WebhookItem | RangeSessions]]:
    """:func:`_ranges_checked` once the file is open (``bounds``, for finding where ranges begin)."""
    try:
        folder = tempfile.mkdtemp(prefix="telephony-conformance-")
    except OSError:  # no writable temporary folder: check in this process instead
        yield _in_this_process(path, tally, options)
        return
    ranges = _line_ranges(bounds, size, chunk_bytes)
    pending: deque[tuple[int, int, Future[str]]] = deque()  # (start, end, the range's result file)
    # Never more workers than ranges (a small file with --jobs 4000 needs one), and at most two
    # ranges per worker in flight: every worker stays busy, and memory stays bounded.
    workers = max(1, min(workers, -(-size // chunk_bytes)))
    ahead = 2 * workers
    pool: Executor | None = executor

    def submit() -> None:
        bound = next(ranges, None)
        if bound is not None and pool is not None:
            start, end = bound
            future = pool.submit(_check_chunk_to_file, path, start, end, options, identity, folder)
            pending.append((start, end, future))

    try:
        try:
            # Workers start here (the first submits start them): they must begin ignoring Ctrl-C.
            with _interrupts_held():
                if pool is None:
                    pool = ProcessPoolExecutor(
                        workers, mp_context=_context(), initializer=_worker_init, initargs=(os.getpid(), folder)
                    )
                for _ in range(ahead):
                    submit()
        except _CANNOT_START:  # no processes, threads or semaphores to be had: check in this process
            for _, _, future in pending:
                future.cancel()
            pending.clear()
            yield _in_this_process(path, tally, options)
            return
        offset = 0
        while pending:
            try:
                start, end, future = pending.popleft()
                result = _load_chunk(future.result())
                submit()
            except CaptureChanged as exc:
                yield [stopped_by_change(offset + 1, exc)]
                return
            except ResultNotWritten:  # the temporary folder is full: check the rest in this process
                for _, _, future in pending:
                    future.cancel()
                yield _rest_in_this_process(path, start, offset, identity, tally, options, progress)
                return
            except BrokenProcessPool:
                yield [
                    _stopped(
                        offset + 1,
                        "a worker process died (killed, or out of memory?); "
                        "check again, with --jobs 1 to use one process",
                    )
                ]
                return
            except (OSError, RuntimeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                yield [_stopped(offset + 1, f"a worker could not go on ({reason})")]
                return
            if result.sessions is not None:
                result.sessions.offset = offset
                result.sessions.reread = functools.partial(_reread, path, start, end, options, identity)
                yield [result.sessions]
            else:
                yield _merge(marshal.loads(result.records), result.findings.stage_findings(offset), offset)
            # The range's items are all taken by now, its findings read from its file.
            with contextlib.suppress(OSError):
                os.unlink(str(result.findings.path))
            offset += result.tally.lines
            tally.add(result.tally)
            if progress is not None:
                progress(result.end)
            if result.findings.broke_off:
                return  # the file broke off in that range (an I/O error): as in one process, stop
    finally:
        try:
            running = [future for _, _, future in pending if not future.cancel()]
            if executor is None and pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            else:  # a caller's pool lives on: let the ranges it still runs finish their files first
                futures.wait(running)
        finally:  # even when a second Ctrl-C interrupts the shutdown
            shutil.rmtree(folder, ignore_errors=True)


#: What starting workers raises when the system has no room for them (fork, threads, /dev/shm).
_CANNOT_START = (OSError, RuntimeError, BrokenProcessPool)


def _in_this_process(path: str, tally: Tally, options: Options) -> Iterator[Finding | Record | WebhookItem]:
    """The line stage for the whole file, here: when worker processes cannot be used."""
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        yield _unreadable(exc)
        return
    with stream:
        yield from check_lines(stream, tally, options)


def _rest_in_this_process(
    path: str,
    start: int,
    offset: int,
    identity: FileIdentity,
    tally: Tally,
    options: Options,
    progress: Callable[[int], Any] | None,
) -> Iterator[Finding | Record | WebhookItem]:
    """The line stage for the file from byte ``start`` (the start of line ``offset + 1``) on,
    here: when workers cannot hand their results back."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        yield _unreadable(exc)
        return
    with raw:
        info = os.fstat(raw.fileno())
        if (info.st_dev, info.st_ino) != identity:
            yield stopped_by_change(offset + 1, CaptureChanged("the file was replaced by another one (rotated?)"))
            return
        raw.seek(start)
        stream: Any = WatchedFile(raw)
        if progress is not None:
            stream = ProgressStream(stream, progress)
        for item in check_lines(stream, tally, options):
            if type(item) is Finding:
                yield item.moved(offset) if offset else item
            else:
                yield _moved(item, offset) if offset else item  # type: ignore[arg-type]


def _stopped(line: int, reason: str) -> Finding:
    """``C110`` for a check that could not go on to the end of the file."""
    return rules.UNREADABLE.finding(line, f"checking stopped here: {reason}; the lines before it were checked")


def _unreadable(exc: OSError) -> Finding:
    return _stopped(1, f"the file could not be read ({exc.strerror or exc})")


def _merge(
    records: list[Record | WebhookItem], findings: Iterable[Finding], offset: int
) -> Iterator[Finding | Record | WebhookItem]:
    """A range's findings (moved down by ``offset`` already) and records (moved here) merged by
    line, a line's findings before its record; the findings are taken as they are needed."""
    records = [_moved(record, offset) for record in records]
    start = 0
    for finding in findings:  # few, usually: found by bisection among the many records
        end = bisect.bisect_left(records, finding.line, lo=start, key=_line_of)
        if end > start:
            yield from records[start:end]
        yield finding
        start = end
    yield from records[start:] if start else records


def _moved(item: Record | WebhookItem, offset: int) -> Record | WebhookItem:
    """A record or webhook item ``offset`` lines further down."""
    if type(item) is tuple:
        return (item[0] + offset, item[1])
    record: Record = item  # type: ignore[assignment]
    record[LINE] += offset
    return record


def _line_of(item: Record | WebhookItem) -> int:
    line: int = item[0]  # LINE, in a record and a webhook item alike
    return line


class _Range(io.RawIOBase):
    """The next ``length`` bytes of an open file, as a stream of their own."""

    def __init__(self, raw: io.FileIO, length: int) -> None:
        self._raw = raw
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)
        n = self._raw.readinto(view[: min(len(view), self._left)]) or 0
        self._left -= n
        return n


def _line_ranges(f: io.FileIO, size: int, chunk_bytes: int) -> Iterator[tuple[int, int]]:
    """The byte ranges to check, each about ``chunk_bytes`` long and both of its ends at the
    start of a line, in order; found here, in one pass, so that a worker never rescans a long
    line that began before its range (a 2 GB line would be read once per range)."""
    start = 0
    while start < size:
        end = _next_line_start(f, start + chunk_bytes, size)
        yield start, end
        start = end


def _next_line_start(f: io.FileIO, position: int, size: int) -> int:
    """The offset of the first line that begins at or after ``position`` (``size`` if none
    does), read from ``f`` in pieces that grow, so that a short line costs one small read."""
    if position >= size:
        return size
    at = position - 1  # a line begins at `position` when the byte before it ends a line
    piece = 4096
    while True:
        f.seek(at)
        block = f.read(piece)
        if not block:
            return max(at, position)  # the file ends (or shrank: its worker says so)
        found = block.find(b"\n")
        if found >= 0:
            return at + found + 1
        at += len(block)
        piece = min(2 * piece, BLOCK_BYTES)


def _line_start(f: Any, position: int) -> int:
    """The offset of the first line that begins at or after ``position``."""
    if position <= 0:
        return 0
    f.seek(position - 1)
    if f.read(1) == b"\n":
        return position
    while True:  # skip the rest of the line in bounded pieces (it may be very long)
        piece = f.readline(BLOCK_BYTES)
        if not piece or piece.endswith(b"\n"):
            return int(f.tell())


def _worker_init(main: int, folder: str | None = None) -> None:
    """Prepare a worker: ignore Ctrl-C and SIGTERM, :func:`settle`, and exit when the checking
    process ``main`` is gone, removing the results ``folder`` that it can no longer remove.

    Ctrl-C reaches every process of the terminal's group; the main process handles it and
    shuts the pool down, while a worker that died of it mid-message could hang the main
    process. SIGTERM reaches the whole group too when CI cancels a job or systemd stops a
    service: the main process dies of it, and its workers, outliving it, remove the results
    folder. A worker whose main process was killed would otherwise wait for work for ever.
    ``main`` is watched by its pid, not as this process's parent: under forkserver the
    parent is the fork server, and under spawn the main process may be gone already.
    """
    for held in _HELD:
        signal.signal(held, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(_HELD))  # blocked under fork (_interrupts_held)
    settle()
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) is not a probe there
        return

    parent = os.getppid()

    def watch() -> None:
        # Under fork the parent is the main process: a change of parent is the quickest sign
        # (even while the dead main process waits, a zombie, for its own parent to reap it).
        while os.getppid() == parent and _alive(main):
            time.sleep(1.0)
        if folder is not None:  # the main process cannot tidy up any more: do it for it
            shutil.rmtree(folder, ignore_errors=True)
        os._exit(1)

    threading.Thread(target=watch, name="main-watch", daemon=True).start()


#: The signals workers ignore: Ctrl-C, and SIGTERM sent to the whole process group.
_HELD = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) and SIGTERM in this process while it starts workers, and have
    them start ignoring both.

    A worker under spawn or forkserver is a new interpreter that imports the package (a
    second or more) before :func:`_worker_init` can ignore Ctrl-C: one pressed meanwhile
    killed it with a traceback. A signal ignored when a process starts stays ignored through
    fork and exec, so the workers begin ignoring it. This process blocks it as well, and
    Linux keeps a blocked signal pending even while it is ignored: a Ctrl-C pressed now
    arrives when the block ends, and stops the workers as usual.
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set(_HELD))
    handlers = {}
    try:
        if threading.current_thread() is threading.main_thread():  # only it may set handlers
            for held in _HELD:
                handlers[held] = signal.signal(held, signal.SIG_IGN)
        yield
    finally:
        try:
            for held, handler in handlers.items():
                if handler is not None:
                    signal.signal(held, handler)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not, where /proc says so)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or the pid reused by another user
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS): kill(pid, 0) is all there is


def _context() -> Any:
    """``fork`` where it is safe (Linux, no other thread running): the workers inherit the
    compiled schemas and start in milliseconds. Otherwise ``forkserver`` on Linux and the
    platform's default elsewhere (``spawn``): each worker imports the package and compiles
    the schemas itself. Forking a process that runs other threads (pytest-xdist's workers do)
    can deadlock the child, and Python 3.12+ warns about it; Linux's default before 3.14 is
    fork, so it must be avoided by name."""
    import multiprocessing

    if sys.platform == "linux":
        return multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")
    return multiprocessing.get_context("spawn")
