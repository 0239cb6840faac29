"""The parallel line stage (``conformance/parallel.py``): checking a plain capture file on
byte ranges in worker processes gives exactly what one process gives: the same findings in
the same order, the same summary, the same error and warning counts."""

from __future__ import annotations

import copy
import functools
import gc
import io
import json
import os
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from _ranges import joined_findings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sessions import dialin_session

from conformance.check import CaptureSummary, check_file, check_stream, parallel, pipeline
from conformance.check.gc_tuning import collecting_less
from conformance.check.parallel import (
    MIN_PARALLEL_BYTES,
    CaptureChanged,
    available_cores,
    check_chunk,
    check_lines_parallel,
    file_identity,
    plan_workers,
)
from conformance.check.tally import Tally as LineTally
from conformance.findings import Finding, Severity
from conformance.options import Options
from conformance.schemas import load_schemas
from conformance.strategies import Broken, broken_streams, streams
from conformance.surfaces import WEBHOOK_TYPES
from conformance.surfaces import webhook_schema_file as schema_file

REPO = Path(__file__).resolve().parent.parent.parent
DATA = REPO / "tests" / "data"

# PROPERTY_EXAMPLES=2000 for a longer hunt.
SETTINGS = settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

Result = tuple[list[Finding], dict[str, Any]]


# --- the two ways of checking -------------------------------------------------------------
def _summary(summary: CaptureSummary) -> dict[str, Any]:
    out = summary.as_dict()
    out["errors+warnings"] = (summary.errors, summary.warnings)
    out["coverage"] = (summary.lifecycle_paths, summary.fields_present, summary.fields_null)
    return out


def one_process(data: bytes, path: str, options: Options) -> Result:
    summary = CaptureSummary(path)
    findings = list(check_stream(io.BytesIO(data), summary, options))
    return findings, _summary(summary)


def in_parallel(
    path: str, options: Options, executor: ProcessPoolExecutor, chunk_bytes: int, progress: Any = None
) -> Result:
    """The parallel line stage, then the lifecycle stage as :func:`check_file` runs it.

    ``check_file`` builds its own pool and cannot be handed one, so this calls the same two
    stages it calls (``_check`` and ``_counted``) with the shared pool."""
    summary = CaptureSummary(path)
    lines = check_lines_parallel(
        path, summary, options, 2, progress=progress, executor=executor, chunk_bytes=chunk_bytes
    )
    findings = list(pipeline._counted(pipeline._check(lines, summary, options), summary, options))
    return findings, _summary(summary)


def assert_same(parallel_result: Result, expected: Result) -> None:
    got_findings, got_summary = parallel_result
    want_findings, want_summary = expected
    assert got_summary == want_summary
    # Compare line by line first: a difference then names the first finding that differs.
    for got, want in zip(got_findings, want_findings, strict=False):
        assert got == want
    assert len(got_findings) == len(want_findings)


# --- building captures --------------------------------------------------------------------
def _dump(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


GOOD = b'{"action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:r@sip.daily.co","provider":"daily"}'


def _long(n: int) -> bytes:
    """A valid dialin-ready of more than ``n`` bytes."""
    return GOOD[:-1] + b',"pad":"' + b"y" * n + b'"}'


GARBAGE = st.sampled_from(
    [
        b"{",
        b"}",
        b'"',
        b"\\",
        b"NaN",
        b'{"action":"dialin-ready","x":NaN}',
        b'{"action":"dialin-ready","x":-Infinity}',
        b"\xef\xbb\xbf",
        b'\xef\xbb\xbf{"action":"participant-joined"}',
        b"\xff",
        b'{"action":"dialin-\xff"}',
        b'{"action":"dialin-ready","action":"x"}',
        b'{"action":"dialin-stopped","sessionId":"s","sessionId":"t","callClientId":"c"}',
        b'{"a":{"b":1,"b":2},"action":"participant-left"}',
        b"",
        b"   ",
        b"\t",
        b"\r",
        b"[1,2]",
        b"null",
        b'"dialin-ready"',
        b"{}",
        b'{"action":null}',
        b'{"action":"dialin_connected","sessionId":"s","callClientId":"c"}',
        b'{"type":"start-failed","sessionId":"s"}',
        b'{"type":"dialout.conected","payload":{}}',
        b'{"type":"recording.started","payload":{}}',
        b"[" * 40 + b"]" * 40,
        b'{"action":"dialin-ready","x":' + b"[" * 1100 + b"]" * 1100 + b"}",
    ]
)
GARBAGE_LINE = st.one_of(GARBAGE, st.lists(st.one_of(st.binary(max_size=16), GARBAGE), max_size=5).map(b"".join))


def _as_lines(events: list[dict[str, Any]]) -> list[bytes]:
    return [_dump(e) for e in events]


def _broken_lines(broken: Broken) -> list[bytes]:
    return _as_lines(broken.events)


@functools.cache
def _webhook_examples() -> list[dict[str, Any]]:
    return [e for t in WEBHOOK_TYPES for e in load_schemas()[schema_file(t)]["examples"]]


@st.composite
def _webhooks(draw: st.DrawFn) -> list[bytes]:
    """A few webhook deliveries: documented examples with their session, time and id
    redrawn, so that some sessions repeat, arrive out of order, or are retried."""
    out = []
    for _ in range(draw(st.integers(1, 4))):
        event = copy.deepcopy(draw(st.sampled_from(_webhook_examples())))
        body = event["payload"]
        body["timestamp"] = draw(st.sampled_from([1700000000, 1700000001, 1700003700, 1699990000, "soon", 1.5]))
        if "session_id" in body:
            body["session_id"] = draw(st.sampled_from(["w1", "w2", "7d208e2a-520b-4a8d-a2c9-3a36dfa0d342"]))
        event["id"] = draw(st.sampled_from(["d1", "d2", f"{event['type']}-{body['timestamp']}"]))
        if draw(st.integers(0, 5)) == 0:
            body.pop(draw(st.sampled_from(sorted(body))), None)
        out.append(_dump(event))
    return out


@st.composite
def captures(draw: st.DrawFn) -> tuple[bytes, Options]:
    """A capture mixing valid and broken streams, garbage lines and webhook deliveries,
    with LF or CRLF endings, sometimes an over-long line, with or without a final newline."""
    pieces = draw(
        st.lists(
            st.one_of(
                streams(max_sessions=3).map(_as_lines),
                broken_streams().map(_broken_lines),
                st.lists(GARBAGE_LINE, min_size=1, max_size=4),
                _webhooks(),
            ),
            max_size=5,
        )
    )
    # Streams interleave line by line, as events of several captures merged by time would.
    lines: list[bytes] = []
    for piece in pieces:
        at = draw(st.integers(0, len(lines)))
        lines[at:at] = piece
    options: dict[str, Any] = {
        "strict": draw(st.booleans()),
        "partial": draw(st.booleans()),
        "coverage": draw(st.booleans()),
    }
    if draw(st.integers(0, 3)) == 0:
        options["max_line_bytes"] = 300
        long = b'{"action":"dialin-ready","pad":"' + b"x" * draw(st.integers(280, 1500)) + b'"}'
        lines.insert(draw(st.integers(0, len(lines))), long)
    endings = draw(st.lists(st.sampled_from([b"\n", b"\n", b"\r\n"]), min_size=len(lines), max_size=len(lines)))
    data = b"".join(line + end for line, end in zip(lines, endings, strict=True))
    if data and not draw(st.booleans()):
        data = data[: -len(endings[-1])]  # no final newline
    return data, Options(**options)


def _temporary(data: bytes) -> str:
    fd, path = tempfile.mkstemp(suffix=".ndjson")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


# --- the property -------------------------------------------------------------------------
@SETTINGS
@given(captures(), st.integers(1, 400))
def test_parallel_equals_one_process(pool: ProcessPoolExecutor, capture: tuple[bytes, Options], chunk: int) -> None:
    data, options = capture
    path = _temporary(data)
    try:
        assert_same(in_parallel(path, options, pool, chunk), one_process(data, path, options))
    finally:
        os.unlink(path)


# --- the checked-in captures, through check_file ------------------------------------------
PLAIN_CAPTURES = sorted(p for p in DATA.rglob("*.ndjson") if not p.read_bytes().startswith(b"\x1f\x8b"))


@pytest.mark.parametrize("chunk", [3, 64])
@pytest.mark.parametrize("capture", PLAIN_CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_check_file_with_jobs_equals_one_process(
    pool: ProcessPoolExecutor, monkeypatch: pytest.MonkeyPatch, capture: Path, chunk: int
) -> None:
    # check_file itself, with its parallel stage on the shared pool and small ranges.
    monkeypatch.setattr(
        pipeline, "check_lines_parallel", functools.partial(check_lines_parallel, executor=pool, chunk_bytes=chunk)
    )
    for options in (Options(jobs=2), Options(jobs=2, strict=True, partial=True, max_line_bytes=200)):
        assert plan_workers(str(capture), options.jobs) == (2 if capture.stat().st_size else 0)
        summary = CaptureSummary(str(capture))
        findings = list(check_file(str(capture), summary, options))
        assert_same((findings, _summary(summary)), one_process(capture.read_bytes(), str(capture), options))


# --- plan_workers -------------------------------------------------------------------------
def test_plan_workers(tmp_path: Path) -> None:
    small = tmp_path / "small.ndjson"
    small.write_bytes(b'{"action":"participant-joined"}\n')
    gz = DATA / "valid" / "gzip-capture.ndjson.gz"
    assert plan_workers("-", 2) == 0
    assert plan_workers("-", 0) == 0
    assert plan_workers(str(small), 1) == 0
    assert plan_workers(str(gz), 2) == 0
    assert plan_workers(str(gz), 0) == 0
    assert plan_workers(str(small), 0) == 0  # below MIN_PARALLEL_BYTES
    assert plan_workers(str(small), 2) == 2
    assert plan_workers(str(small), 5) == 5
    assert plan_workers(str(tmp_path / "missing.ndjson"), 2) == 0
    assert plan_workers(str(tmp_path), 2) == 0  # a folder


def test_plan_workers_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")
    assert plan_workers(str(empty), 0) == 0
    assert plan_workers(str(empty), 2) == 0  # nothing to split (and /proc files say size 0)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_plan_workers_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.ndjson"
    os.mkfifo(fifo)
    # Must answer without opening the FIFO (opening it would block with no writer).
    assert plan_workers(str(fifo), 2) == 0
    assert plan_workers(str(fifo), 0) == 0


def test_plan_workers_default_on_a_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "large.ndjson"
    with open(path, "wb") as f:
        f.truncate(parallel.MIN_PARALLEL_BYTES)  # sparse: no 16 MiB written
    monkeypatch.setattr(parallel, "available_cores", lambda: 3)
    assert plan_workers(str(path), 0) == 3
    monkeypatch.setattr(parallel, "available_cores", lambda: 1)
    assert plan_workers(str(path), 0) == 0


# --- a large capture: several ranges of the default size ----------------------------------
@pytest.fixture(scope="module")
def big_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """About 9 MB of valid sessions (three ranges of 4 MiB), with a 300 kB line straddling
    the first range boundary; returns the path and that line's number."""
    lines: list[bytes] = []
    size = n = 0
    long_line = 0
    while size < 9_000_000:
        for line in map(_dump, dialin_session(n)):
            if not long_line and size + len(line) + 1 > parallel.CHUNK_BYTES - 100_000:
                long_line = len(lines) + 1
                line = _long(300_000)
            lines.append(line)
            size += len(line) + 1
        n += 1
    path = tmp_path_factory.mktemp("big") / "big.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, long_line


def test_progress_reports_increasing_offsets_to_the_end(big_capture: tuple[Path, int]) -> None:
    path, _ = big_capture
    size = path.stat().st_size
    assert size > 2 * parallel.CHUNK_BYTES
    calls: list[int] = []
    summary = CaptureSummary(str(path))
    findings = list(check_file(str(path), summary, Options(jobs=2), progress=calls.append))
    assert findings == []
    assert summary.errors == summary.warnings == 0
    assert len(calls) == -(-size // parallel.CHUNK_BYTES)  # one call per range
    assert calls == sorted(calls) and len(set(calls)) == len(calls), calls
    assert 0 < calls[0] < size
    assert calls[-1] == size


def test_large_capture_with_an_over_long_line_across_a_range_boundary(big_capture: tuple[Path, int]) -> None:
    path, long_line = big_capture
    options = Options(jobs=2, max_line_bytes=200_000)
    summary = CaptureSummary(str(path))
    findings = list(check_file(str(path), summary, options))
    assert [(f.line, f.rule) for f in findings] == [(long_line, "C107")]
    assert_same((findings, _summary(summary)), one_process(path.read_bytes(), str(path), options))


# --- over-long lines across range boundaries ----------------------------------------------
@pytest.mark.parametrize(
    ("lines", "final_newline"),
    [
        ([GOOD, GOOD, _long(1000), GOOD, GOOD, GOOD], True),  # in the middle
        ([_long(1000), GOOD, GOOD], True),  # the first line
        ([GOOD, GOOD, _long(1000)], False),  # the last line, with no newline
        ([GOOD, GOOD, _long(1000)], True),  # the last line
        ([GOOD, _long(700), _long(900), GOOD], True),  # two in a row
        ([GOOD, b"", _long(1000) + b"\r", b"", GOOD], True),  # CRLF, between blank lines
    ],
)
@pytest.mark.parametrize("chunk", [1, 13, 64, 150, 400])
def test_a_range_boundary_inside_an_over_long_line(
    pool: ProcessPoolExecutor, tmp_path: Path, lines: list[bytes], final_newline: bool, chunk: int
) -> None:
    data = b"\n".join(lines) + (b"\n" if final_newline else b"")
    path = tmp_path / "long.ndjson"
    path.write_bytes(data)
    options = Options(max_line_bytes=120, allow_empty=True)
    findings, summary = in_parallel(str(path), options, pool, chunk)
    long_lines = [i for i, line in enumerate(lines, 1) if len(line) > 120]
    assert [(f.line, f.rule) for f in findings] == [(i, "C107") for i in long_lines]
    assert summary["lines"] == len(lines)
    assert summary["rejectedLines"] == len(long_lines)
    assert_same((findings, summary), one_process(data, str(path), options))


def test_a_line_longer_than_several_ranges_and_the_drain_chunk(pool: ProcessPoolExecutor, tmp_path: Path) -> None:
    # 2.5 MiB: skipped in several 1 MiB pieces, and spanning three 1 MiB ranges.
    lines = [GOOD, b"", _long(5 * 1024 * 1024 // 2), GOOD]
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "longer.ndjson"
    path.write_bytes(data)
    options = Options(max_line_bytes=1000)
    calls: list[int] = []
    findings, summary = in_parallel(str(path), options, pool, 1024 * 1024, progress=calls.append)
    assert [(f.line, f.rule) for f in findings] == [(3, "C107")]
    assert summary["lines"] == 4 and summary["blankLines"] == 1 and summary["rejectedLines"] == 1
    assert calls == sorted(calls) and calls[-1] == len(data)
    assert_same((findings, summary), one_process(data, str(path), options))


# --- starting the workers -----------------------------------------------------------------
def test_workers_are_not_forked_while_other_threads_run() -> None:
    # parallel._context() promises `fork` only "where it is safe (Linux, no other thread)",
    # else "the platform's default (spawn or forkserver)". But the default on Linux before
    # Python 3.14 is fork itself. Forking a process that runs other threads can deadlock the
    # child, and from Python 3.12 warns (DeprecationWarning, reported as an unraisable
    # exception, which fails a pytest run with filterwarnings=error). The pytest plugin
    # under pytest-xdist (execnet threads) with --telephony-jobs 2 is such a process.
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert threading.active_count() > 1
        assert parallel._context().get_start_method() != "fork"
    finally:
        stop.set()
        thread.join()


# --- deep values --------------------------------------------------------------------------
_CONNECTED = b'{"action":"dialin-connected","sessionId":"s","provider":"daily",'
DEEP_SHAPES = {
    # Records and webhook deliveries travel from the workers as marshal data, which has a
    # depth limit of its own; a line nested up to 1024 levels is accepted (C108 is beyond).
    "webhook-payload": b'{"type":"dialin.connected","payload":%s}',
    "sipCallId": _CONNECTED + b'"callClientId":"c","sipCallId":%s}',
    "callClientId": _CONNECTED + b'"sipCallId":"x","callClientId":%s}',
}


@pytest.mark.parametrize("shape", sorted(DEEP_SHAPES))
def test_deep_values_in_records(pool: ProcessPoolExecutor, tmp_path: Path, shape: str) -> None:
    for depth in (500, 900, 1023):
        line = DEEP_SHAPES[shape] % (b"[" * depth + b"]" * depth)
        data = line + b"\n" + GOOD + b"\n"
        path = tmp_path / f"deep{depth}.ndjson"
        path.write_bytes(data)
        for options in (Options(), Options(strict=True)):
            try:
                expected = one_process(data, str(path), options)
            except RecursionError:
                pytest.fail(f"one process raises RecursionError at depth {depth}; a deep value must be a finding")
            assert {f.line for f in expected[0]} == {1}, depth
            assert_same(in_parallel(str(path), options, pool, 50), expected)


# --- a file that changes under the workers ------------------------------------------------
def test_a_range_of_a_replaced_deleted_or_shrunk_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "capture.ndjson"
    path.write_bytes(b'{"action":"participant-joined"}\n' * 100)
    identity = file_identity(str(path))
    assert check_chunk(str(path), 0, 64, Options(), identity).tally.lines == 2
    with pytest.raises(CaptureChanged, match="replaced"):
        check_chunk(str(path), 0, 64, Options(), (identity[0], identity[1] + 1))
    with pytest.raises(CaptureChanged, match="shrank"):
        check_chunk(str(path), 0, 10_000, Options(), identity)
    path.unlink()
    with pytest.raises(CaptureChanged, match="deleted"):
        check_chunk(str(path), 0, 64, Options(), identity)


def test_a_changed_file_stops_the_parallel_check_with_c110(
    pool: ProcessPoolExecutor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "capture.ndjson"
    path.write_bytes(b'{"action":"participant-joined"}\n' * 100)
    real = parallel.file_identity
    monkeypatch.setattr(parallel, "file_identity", lambda p: (real(p)[0], real(p)[1] + 1))
    items = list(check_lines_parallel(str(path), LineTally(), Options(), 2, executor=pool, chunk_bytes=64))
    assert [(i.line, i.rule) for i in items] == [(1, "C110")]
    assert "changed while it was being checked" in items[0].message


def test_a_file_that_does_not_know_its_size_is_read_in_one_process() -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc on this platform")
    assert plan_workers("/proc/self/status", 2) == 0


def test_the_python_api_checks_in_this_process_unless_asked(tmp_path: Path) -> None:
    # Worker processes need a __main__ guard in the caller's script where they spawn; the
    # library does not start them unless asked (the CLI and the plugin ask, with 0).
    big = tmp_path / "big.ndjson"
    big.write_bytes(b'{"action":"participant-joined"}\n' * (MIN_PARALLEL_BYTES // 32 + 1))
    assert Options().jobs == 1
    assert plan_workers(str(big), Options().jobs) == 0
    assert plan_workers(str(big), 0) >= (2 if available_cores() > 1 else 0)


def test_a_read_error_in_one_range_ends_the_check_there(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # As in one process, where reading stops at an I/O error: one C110, nothing after it.
    path = tmp_path / "capture.ndjson"
    path.write_bytes(b'{"action":"participant-joined"}\n' * 100)
    real = parallel.check_chunk

    def failing(path: str, start: int, end: int, *rest: Any, **kwargs: Any) -> parallel.ChunkResult:
        if start > 0:
            kwargs["out"].stage([Finding(line=1, rule="C110", severity=Severity.ERROR, message="breaks off here")])
        return real(path, start, end, *rest, **kwargs)

    monkeypatch.setattr(parallel, "check_chunk", failing)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with ThreadPoolExecutor(2) as threads:
        items = check_lines_parallel(str(path), LineTally(), Options(), 2, executor=threads, chunk_bytes=320)
        c110 = [(f.line, f.rule) for f in joined_findings(items)]
        assert c110 == [(11, "C110")]  # the first range held 10 lines; the second broke off at its top
        # Ranges still running when the check stopped finished before their folder went.
        assert list(temp.iterdir()) == []


def test_without_a_writable_temporary_folder_the_check_runs_in_this_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "capture.ndjson"
    path.write_bytes(b'{"action":"participant-joined"}\n' * 50 + b"[1]\n")

    def no_folder(**_: Any) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(parallel.tempfile, "mkdtemp", no_folder)
    tally = LineTally()
    items = list(check_lines_parallel(str(path), tally, Options(), 2, chunk_bytes=64))
    assert [(i.line, i.rule) for i in items] == [(51, "C102")]
    assert tally.lines == 51


def test_when_workers_cannot_start_the_check_runs_in_this_process(tmp_path: Path) -> None:
    class NoProcesses(ThreadPoolExecutor):
        def submit(self, *args: Any, **kwargs: Any) -> Any:
            raise OSError(11, "Resource temporarily unavailable")

    path = tmp_path / "capture.ndjson"
    path.write_bytes(b'{"action":"participant-joined"}\n' * 50 + b"[1]\n")
    tally = LineTally()
    with NoProcesses(1) as pool:
        items = list(check_lines_parallel(str(path), tally, Options(), 2, executor=pool, chunk_bytes=64))
    assert [(i.line, i.rule) for i in items] == [(51, "C102")]
    assert tally.lines == 51


# --- sessions checked by the workers, joined in the calling process ------------------------
def _reused_sessions() -> bytes:
    """Whole sessions, then the same sessions again (a capture recorded twice, say): the
    second time, each lies whole in a later range, and its range's tracker takes it for new."""
    first = [_dump(e) for n in range(40) for e in dialin_session(n, busy=False)]
    return b"\n".join(first + first) + b"\n"


def test_a_whole_session_seen_before_is_replayed_from_its_range_read_again(
    pool: ProcessPoolExecutor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = _reused_sessions()
    path = tmp_path / "twice.ndjson"
    path.write_bytes(data)
    reads: list[int] = []
    real = parallel._reread

    def counted(*args: Any) -> Any:
        reads.append(args[1])
        return real(*args)

    monkeypatch.setattr(parallel, "_reread", counted)
    expected = one_process(data, str(path), Options())
    assert [f.rule for f in expected[0]].count("L303") == 80  # every event of the second pass
    assert_same(in_parallel(str(path), Options(), pool, 2048), expected)
    assert reads  # the ranges of the second pass were read again


def test_a_capture_changed_before_a_range_is_read_again_stops_with_c110(
    pool: ProcessPoolExecutor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "twice.ndjson"
    path.write_bytes(_reused_sessions())

    def changed(*_: Any) -> Any:
        raise CaptureChanged("the file was replaced by another one (rotated?)")

    monkeypatch.setattr(parallel, "_reread", changed)
    findings, summary = in_parallel(str(path), Options(), pool, 2048)
    stops = [f for f in findings if f.rule == "C110"]
    assert len(stops) == 1 and findings[-1] is stops[0]
    assert "changed while it was being checked" in stops[0].message
    assert summary["lines"] < 160


@pytest.mark.parametrize(
    ("second", "third", "rule"),
    [
        ("dialin-connected", "dialin-stopped", "L305"),  # with another provider, below
        ("dialin-connected", "dialin-connected", "L306"),
        ("dialin-stopped", "dialin-warning", "L303"),
        ("dialin-connected", "dialout-warning", "L304"),
    ],
)
def test_a_finding_naming_another_line_names_it_from_the_top_of_the_file(
    pool: ProcessPoolExecutor, tmp_path: Path, second: str, third: str, rule: str
) -> None:
    # A session whole in the second range: its tracker counts lines from the range's top,
    # but a message's "line 2" must count from the file's.
    pad = _dump({"action": "participant-joined", "pad": "x" * 170})
    base = {"callClientId": "A", "sessionId": "s", "sipCallId": "c1"}
    data = b"\n".join(
        [
            pad,
            _dump({"action": second, **base, "provider": "daily"}),
            _dump({"action": third, **base, "provider": "twilio" if rule == "L305" else "daily", "errorMsg": "e"}),
        ]
    ) + b"\n"
    path = tmp_path / "lines.ndjson"
    path.write_bytes(data)
    expected = one_process(data, str(path), Options())
    assert rule in [f.rule for f in expected[0]]
    assert any("line 2" in f.message for f in expected[0] if f.rule == rule)
    assert_same(in_parallel(str(path), Options(), pool, 200), expected)


def test_a_check_in_pytest_collects_less_and_leaves_the_collector_as_it_was() -> None:
    # A pytest process is not the package's: during a check it collects garbage as the CLI
    # does (pytest's own objects out of the collector's sight), and afterwards as before.
    already = gc.get_freeze_count()  # an in-process CLI test may have settled this process
    gc.unfreeze()
    before = gc.get_threshold()
    try:
        with collecting_less():
            assert gc.get_threshold() == (100_000, 50, 1000)
            assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
        # Objects someone else froze stay frozen.
        gc.freeze()
        frozen = gc.get_freeze_count()
        with collecting_less():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        if already:
            gc.freeze()


@pytest.mark.parametrize("where", ["before the range", "in the range, with a finding of its session"])
def test_a_broken_start_line_excuses_its_session_across_ranges(
    pool: ProcessPoolExecutor, tmp_path: Path, where: str
) -> None:
    # A broken line (here a typo in the action) may have been a session's start: the session
    # is not blamed for a missing start (L302), whichever range the line and the session are in,
    # also when the session is replayed in the calling process for a finding of its own (L303).
    pad = _dump({"action": "participant-joined", "pad": "x" * 170})
    base = {"callClientId": "A", "sessionId": "s", "sipCallId": "c1", "provider": "daily"}
    broken = _dump({"action": "dialin_connected", **base})
    stop = _dump({"action": "dialin-stopped", **base})
    if where == "before the range":
        lines, chunk = [broken, pad, pad, stop], 200
    else:  # the broken line and the session in one range, the second stop making it a replay
        lines, chunk = [pad, broken, stop, stop, pad], 520
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "lines.ndjson"
    path.write_bytes(data)
    expected = one_process(data, str(path), Options())
    rules_found = [f.rule for f in expected[0]]
    assert "S204" in rules_found and "L302" not in rules_found
    assert rules_found.count("L303") == (0 if where == "before the range" else 1)
    assert_same(in_parallel(str(path), Options(), pool, chunk), expected)
