"""Hostile captures: the check stays linear in time and bounded in memory whatever it is fed
(issue 19). Small sizes and counted work stand in for the gigabytes of the real attacks; the
figures at full size are measured by ``bench/bench_limits.py``."""

from __future__ import annotations

import errno
import gc
import gzip
import io
import itertools
import json
import marshal
import os
import pickle
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from _ranges import joined_findings
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.check import CaptureSummary, check_file, check_stream, parallel, pipeline, reading
from conformance.check.lines import check_lines
from conformance.check.parallel import check_lines_parallel
from conformance.check.reading import BLOCK_BYTES, read_lines
from conformance.check.sessions import SessionTracker
from conformance.check.tally import MAX_UNKNOWN_NAMES, OTHER_NAMES, Tally
from conformance.findings import FIELD_LIMIT, NAME_LIMIT
from conformance.options import Options


class _CountingFile(io.FileIO):
    """A file that adds up the bytes read through it, in ``read_bytes``."""

    read_bytes = 0

    def readinto(self, buffer: Any) -> int | None:
        n = super().readinto(buffer)
        _CountingFile.read_bytes += n or 0
        return n

    def read(self, size: int = -1) -> bytes | None:
        data = super().read(size)
        _CountingFile.read_bytes += len(data or b"")
        return data


def _counting_open(path: Any, mode: str = "r", buffering: int = -1, **kwargs: Any) -> Any:
    if str(path).endswith(".chunk"):  # a worker's result, not the capture
        return open(path, mode, buffering, **kwargs)
    assert mode == "rb" and buffering == 0, (mode, buffering)
    return _CountingFile(path, "rb")


def test_a_long_line_is_read_once_in_parallel_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # One 8 MiB line in ranges of 4 KiB: each range used to find its first line by rescanning
    # the rest of the long line, 2,048 times over.
    path = tmp_path / "long.ndjson"
    line = b'{"action":"dialin-ready","pad":"' + b"a" * (8 * 1024 * 1024) + b'"}\n'
    path.write_bytes(line + b'{"action":"participant-joined"}\n')
    monkeypatch.setattr(parallel, "open", _counting_open, raising=False)
    _CountingFile.read_bytes = 0
    with ThreadPoolExecutor(2) as threads:
        items = check_lines_parallel(str(path), Tally(), Options(), 2, executor=threads, chunk_bytes=4096)
        assert [f.rule for f in joined_findings(items)] == ["C107"]
    assert _CountingFile.read_bytes <= 3 * path.stat().st_size


def test_never_more_workers_than_ranges(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "small.ndjson"
    path.write_bytes(b'{"action":"participant-joined"}\n' * 19)
    started: list[int] = []
    real = parallel.ProcessPoolExecutor

    def pool(workers: int, **kwargs: Any) -> Any:
        started.append(workers)
        return real(workers, **kwargs)

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", pool)
    summary = CaptureSummary(str(path))
    list(check_file(str(path), summary, Options(jobs=8, allow_empty=True)))
    assert started == [1]
    assert summary.lines == 19


def test_a_file_truncated_during_a_one_process_check_is_c110(tmp_path: Path) -> None:
    # Cut at a line boundary under the check, the file used to end early and pass, a third of
    # it checked; the parallel path already said C110.
    path = tmp_path / "capture.ndjson"
    line = b'{"action":"participant-joined","pad":"' + b"x" * 60 + b'"}\n'
    lines = 3 * BLOCK_BYTES // len(line)
    path.write_bytes(b"{\n" + line * lines)
    summary = CaptureSummary(str(path))
    findings = check_file(str(path), summary, Options(jobs=1, allow_empty=True))
    first = next(findings)  # the first block is read
    assert first.rule == "C101"
    kept = 1 + (2 * BLOCK_BYTES // len(line))
    os.truncate(path, 2 + (kept - 1) * len(line))
    rest = list(findings)
    assert [(f.line, f.rule) for f in rest] == [(kept + 1, "C110")]
    assert "shrank" in rest[0].message
    assert summary.lines == kept


class _FullDisk:
    """``pickle`` as a worker sees it in a full temporary folder: nothing can be written."""

    HIGHEST_PROTOCOL = pickle.HIGHEST_PROTOCOL
    load = staticmethod(pickle.load)
    writes = 0
    fail_from = 0  # the write from which on the folder is full

    @classmethod
    def dump(cls, obj: Any, f: Any, protocol: int | None = None) -> None:
        cls.writes += 1
        if cls.writes > cls.fail_from:
            raise OSError(errno.ENOSPC, "No space left on device")
        pickle.dump(obj, f, protocol)


@pytest.mark.parametrize("fail_from", [0, 2])
def test_a_full_temporary_folder_falls_back_to_one_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fail_from: int
) -> None:
    # It gave C110 "No space left on device" and C111 after 0 lines: the machine's problem
    # reported as a defect of the capture.
    path = tmp_path / "capture.ndjson"
    session = (
        b'{"action":"dialin-connected","callClientId":"c","sessionId":"s%d","sipCallId":"x@sip","provider":"daily"}\n'
        b'{"action":"dialin-stopped","callClientId":"c","sessionId":"s%d","provider":"daily"}\n'
    )
    path.write_bytes(b"".join(session % (n, n) for n in range(400)) + b"{}\n" + session % (7, 7))
    expected = CaptureSummary(str(path))
    want = list(check_file(str(path), expected, Options(jobs=1)))
    monkeypatch.setattr(_FullDisk, "writes", 0)
    monkeypatch.setattr(_FullDisk, "fail_from", fail_from)
    monkeypatch.setattr(parallel, "pickle", _FullDisk)
    summary = CaptureSummary(str(path))
    with ThreadPoolExecutor(2) as threads:
        lines = check_lines_parallel(str(path), summary, Options(jobs=2), 2, executor=threads, chunk_bytes=4096)
        got = list(pipeline._counted(pipeline._check(lines, summary, Options()), summary, Options()))
    assert got == want
    assert [f.rule for f in got] == ["C109", "L303", "L303"]
    assert summary.as_dict() == expected.as_dict()
    assert _FullDisk.writes > fail_from


# --- newline bombs --------------------------------------------------------------------------
def test_runs_of_blank_lines_are_counted_not_handed_on_one_by_one() -> None:
    # 10 GB of newlines, gzipped to 47 MB, took hours at half a million blank lines a second.
    blank = 50 * 1024 * 1024
    data = b'{"action":"participant-joined"}\n' + b"\n" * blank + b"\r\n" * 1000 + b"{}\n"
    counts = Tally()
    handed_on = 0
    for item in read_lines(io.BytesIO(data), counts):
        assert type(item) is tuple
        handed_on += len(item[1])
    assert handed_on < 200  # a few lines around each block's runs, not fifty million
    assert counts.blank_lines > blank - 200
    summary = CaptureSummary("<memory>")
    findings = list(check_stream(io.BytesIO(data), summary, Options(allow_empty=True)))
    assert summary.lines == 1 + blank + 1000 + 1
    assert summary.blank_lines == blank + 1000
    assert [(f.line, f.rule) for f in findings] == [(blank + 1002, "C109")]


LINES = st.sampled_from(
    [b"", b"\r", b"\r\r", b" ", b"\r\r\r\r\r\r", b"{}", b"x", b'{"action":"participant-joined"}', b"\xef\xbb\xbf"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINES, max_size=60), st.integers(1, 6), st.sampled_from([b"\n", b""]))
def test_counting_runs_of_blank_lines_changes_nothing(lines: list[bytes], limit: int, last: bytes) -> None:
    data = b"\n".join(lines) + last

    def checked(crowded: bool) -> tuple[list[Any], dict[str, Any]]:
        summary = CaptureSummary("<memory>")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(reading, "_crowded", lambda block: crowded)
            patch.setattr(reading, "BLOCK_BYTES", 7)  # runs across blocks, and over-long lines
            findings = list(check_stream(io.BytesIO(data), summary, Options(max_line_bytes=limit, allow_empty=True)))
        return findings, summary.as_dict()

    assert checked(True) == checked(False)


def test_a_gzip_that_inflates_past_any_capture_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(reading, "BOMB_BYTES", 4 * 1024 * 1024)  # 1 GiB in use
    path = tmp_path / "bomb.ndjson.gz"
    path.write_bytes(gzip.compress(b'{"action":"participant-joined"}\n' + b"\n" * (64 * 1024 * 1024), 9))
    summary = CaptureSummary(str(path))
    findings = list(check_file(str(path), summary, Options(allow_empty=True)))
    assert [f.rule for f in findings] == ["C110"]
    assert "decompression bomb" in findings[0].message
    assert summary.lines < 16 * 1024 * 1024
    # Events all alike pack well too, but far from that.
    alike = tmp_path / "alike.ndjson.gz"
    alike.write_bytes(gzip.compress(b'{"action":"participant-joined","callClientId":"c"}\n' * 200_000, 9))
    assert list(check_file(str(alike), CaptureSummary(str(alike)), Options(allow_empty=True))) == []


# --- values the checker keeps or prints ---------------------------------------------------
MB = "x" * (1024 * 1024)


def _hostile_capture() -> bytes:
    """Every place a capture's value used to reach a finding, a count or a session whole."""
    client = {"callClientId": "c" + MB, "provider": "daily"}
    lines = [
        {"action": "dialin-" + MB, "sessionId": "s"},  # S204: the name, its action, its count
        {"type": "t" + MB, "sessionId": "s"},  # C109: the type
        {"action": "dialout-connected", "sessionId": "s" + MB, "sipCallId": "a" + MB, **client},
        {"action": "dialout-stopped", "sessionId": "s" + MB, "sipCallId": "b" + MB, **client},  # L305
        {"action": "dialout-stopped", "sessionId": "s" + MB, **client},  # L303
        {"action": "dialin-ready", "callClientId": "c", "sipEndpoint": "sip:r@sip.daily.co", "k" + MB: 1},  # S205
        {"action": "dialout-answered", "sessionId": "t" + MB, "callClientId": 5},  # S202, L301
    ]
    out = [json.dumps(line).encode() for line in lines]
    out.append(b'{"action":"dialin-ready","' + b"d" * len(MB) + b'":1,"' + b"d" * len(MB) + b'":2}')  # C104
    return b"\n".join(out) + b"\n"


def test_values_from_a_capture_are_cut_in_findings_and_counts() -> None:
    # 300 lines with a 7 MB action took 194 s and 8.2 GiB and wrote 6.3 GB of JSON.
    summary = CaptureSummary("<memory>")
    findings = list(check_stream(io.BytesIO(_hostile_capture()), summary, Options(strict=True)))
    assert {f.rule for f in findings} >= {"S204", "C109", "L305", "L303", "S205", "S202", "L301", "C104"}
    for finding in findings:
        for text in (finding.message, finding.action, finding.session_id, finding.pointer, finding.hint):
            assert text is None or len(text) <= FIELD_LIMIT, (finding.rule, len(text))
        assert len(finding.message) < 600, finding.rule
    assert 'changed from "a' in next(f.message for f in findings if f.rule == "L305")
    assert max(map(len, summary.events_by_action)) <= NAME_LIMIT
    assert summary.events_by_action[OTHER_NAMES] == 1


def test_sessions_keep_no_long_value() -> None:
    # Long session ids and identity values are compared by digest, and still compared.
    tracker = SessionTracker()
    findings: list[Any] = []
    items = list(check_lines(io.BytesIO(_hostile_capture()), Tally(), Options()))
    tracker.check(items, findings)
    assert [f.rule for f in findings if f.rule.startswith("L")] == ["L305", "L303", "L301"]
    kept = marshal.dumps((tracker.open, tracker.ended, tracker.lost))
    assert len(kept) < 4000


def test_unknown_names_past_a_hundred_are_counted_together(tmp_path: Path) -> None:
    lines = [b'{"action":"dialin-n%d","sessionId":"s"}' % (n % 150) for n in range(600)]
    path = tmp_path / "names.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    expected = CaptureSummary(str(path))
    want = list(check_file(str(path), expected, Options(allow_empty=True)))
    names = expected.events_by_action
    assert len(names) == MAX_UNKNOWN_NAMES + 1
    assert names["dialin-n0"] == 4 and "dialin-n100" not in names
    assert names[OTHER_NAMES] == 50 * 4
    # Checked in ranges, each with names of its own, the capture counts the same names.
    summary = CaptureSummary(str(path))
    with ThreadPoolExecutor(2) as threads:
        options = Options(allow_empty=True)
        items = check_lines_parallel(str(path), summary, options, 2, executor=threads, chunk_bytes=1000)
        got = list(pipeline._counted(pipeline._check(items, summary, options), summary, options))
    assert got == want
    assert summary.as_dict() == expected.as_dict()


# --- findings in bounded batches ----------------------------------------------------------
def test_a_range_dense_with_findings_hands_them_on_in_batches(tmp_path: Path) -> None:
    # 6 M lines of {} (18 MB) peaked at 1.1 GB in the main process and 0.8 GB per worker: a
    # range's findings were held whole, by the worker and again by the calling process.
    path = tmp_path / "dense.ndjson"
    path.write_bytes(b"{}\n" * 100_000)
    list(check_stream(io.BytesIO(b"{}\n"), CaptureSummary("warm-up"), Options()))  # the schemas, compiled
    gc.collect()
    tracemalloc.start()
    try:
        summary = CaptureSummary(str(path))
        with ThreadPoolExecutor(2) as threads:
            items = check_lines_parallel(str(path), summary, Options(), 2, executor=threads, chunk_bytes=400_000)
            count = sum(1 for _ in pipeline._check(items, summary, Options()))
        _, high = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000 + 1  # a C109 each, and C111
    assert summary.rejected_lines == 100_000
    assert high < 24 * 1024 * 1024, f"{high / 2**20:.0f} MiB held at once"


# --- open sessions ----------------------------------------------------------------------------
CONNECTED = (
    b'{"action":"dialin-connected","callClientId":"17225364729060.9442072768918943",'
    b'"sessionId":"%08x-5216-4481-a2ef-515d6dd7dfc6","sipCallId":"%08xabc123@sip.daily.co","provider":"daily"}\n'
)


def test_an_open_session_is_kept_in_a_few_hundred_bytes() -> None:
    # About 0.9 kB each: 2 M open sessions took 1.8 GB. A session keeps what its rules need in
    # one flat list; the id and SIP Call-ID of each call (85 and 76 bytes here) are its own.
    calls = 20_000
    data = b"".join(CONNECTED % (n, n) for n in range(calls))
    tracker = SessionTracker()
    list(check_stream(io.BytesIO(data[: len(data) // calls]), CaptureSummary("warm-up"), Options()))
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        items = check_lines(io.BytesIO(data), Tally(), Options())
        while batch := list(itertools.islice(items, 1000)):
            tracker.check(batch, [])
        del items, batch
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tracker.open_sessions() == calls
    per_session = (after - before) / calls
    assert per_session < 450, f"{per_session:.0f} bytes per open session"
