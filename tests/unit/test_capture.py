"""Reading captures: syntax findings, bad input (issue section 5) and line accounting."""

from __future__ import annotations

import gzip
import io
import json
import os
import threading
import time
import tracemalloc
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.check import CaptureSummary, check_file
from conformance.check.lines import check_lines
from conformance.check.reading import CaptureUnreadable, capture_files, open_capture, read_lines
from conformance.check.tally import Tally as LineCounts
from conformance.options import DEFAULT_MAX_LINE_BYTES, Options

READY = b'{"action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:room@sip.daily.co","provider":"daily"}'
BAD_READY = b'{"action":"dialin-ready","callClientId":"c","provider":"daily"}'  # no sipEndpoint: S201


def _check_path(path: Path, **options: object) -> tuple[list[tuple[int, str]], CaptureSummary]:
    from conformance.options import Options

    summary = CaptureSummary(str(path))
    found = [(f.line, f.rule) for f in check_file(str(path), summary, Options(**options))]  # type: ignore[arg-type]
    return found, summary


def _physical_lines(data: bytes) -> int:
    """``wc -l`` plus one for a final line without a newline."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


# --- line endings, blank lines, accounting ------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n",
        b"\n\n\n",
        READY,
        READY + b"\n",
        READY + b"\r\n" + READY + b"\r\n",
        b"\r\n\r\n" + READY,
        READY + b"\n  \n\t\n \r\n" + READY,
        READY + b"\rnot a separator\n",
        b"x\ny\n" + READY + b"\n[1]\n{}\n",
    ],
)
def test_every_physical_line_is_counted(check, data: bytes) -> None:
    result = check(data, allow_empty=True)
    s = result.summary
    assert s.lines == _physical_lines(data)
    assert s.lines == s.blank_lines + s.rejected_lines + s.events


def test_crlf_and_blank_lines_are_fine(check) -> None:
    data = b"\r\n" + READY + b"\r\n\r\n   \r\n" + READY + b"\r\n"
    result = check(data)
    assert result.findings == []
    assert result.summary.blank_lines == 3
    assert result.summary.telephony_events == 2


def test_line_numbers_are_one_based_and_physical(check) -> None:
    data = b"\n\r\n" + READY + b"\n\n" + BAD_READY + b"\r\n"
    result = check(data)
    assert result.by_line == {(5, "S201")}


def test_bom_is_a_warning_and_the_line_is_still_checked(check) -> None:
    result = check(b"\xef\xbb\xbf" + BAD_READY + b"\n" + READY + b"\n")
    assert result.by_line == {(1, "C106"), (1, "S201")}
    bom = next(f for f in result.findings if f.rule == "C106")
    assert bom.severity.value == "warning"
    assert result.summary.telephony_events == 2
    assert result.summary.rejected_lines == 0


def test_a_bom_alone_on_a_line_is_blank(check) -> None:
    result = check(b"\xef\xbb\xbf\n" + READY + b"\n")
    assert result.rules == ["C106"]
    assert result.summary.blank_lines == 1


# --- bytes that are not UTF-8 JSON --------------------------------------------------------
@pytest.mark.parametrize(
    "line",
    [
        b'{"action":"dialin-ready","sipEndpoint":"sip:\xff@host"}',
        b'{"action":"dialin-ready","x":"\xc3"}',  # a multi-byte sequence cut short
        b'{"action":"dialin-ready","x":"\xed\xa0\x80"}',  # an encoded surrogate
        b"\xfe\xff\x00{",
    ],
)
def test_invalid_utf8_is_c105_naming_the_byte(check, line: bytes) -> None:
    result = check(READY + b"\n" + line + b"\n" + BAD_READY + b"\n")
    assert result.by_line == {(2, "C105"), (3, "S201")}
    c105 = result.findings[0]
    assert "UTF-8" in c105.message and "byte" in c105.message


def test_valid_multibyte_utf8_is_fine(check) -> None:
    line = READY[:-1] + ',"userId":"Zoë 📞 \u2028"}'.encode()
    assert check(line + b"\n").findings == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e400", "1e400"), ("-1e400", "-1e400")],
)
def test_non_finite_numbers_are_c103(check, value: str, shown: str) -> None:
    line = f'{{"action":"dialout-warning","retry":{value},"x":1}}'.encode()
    result = check(READY + b"\n" + line + b"\n" + BAD_READY + b"\n")
    assert result.by_line == {(2, "C103"), (3, "S201")}
    assert result.findings[0].message.startswith(f"{shown} at column ")


def test_non_finite_number_inside_an_array(check) -> None:
    result = check(READY + b"\n[1, NaN]\n")
    assert result.by_line == {(2, "C103")}
    assert result.findings[0].message.startswith("NaN ")


def test_nan_inside_a_string_is_fine(check) -> None:
    line = READY[:-1] + b',"userId":"NaN Infinity -Infinity 1e400"}'
    assert check(line + b"\n").findings == []


@pytest.mark.parametrize(
    "line",
    [b'{"action":"dialin-ready",', b"{'action': 'dialin-ready'}", READY + b" trailing", b"nul\x00l", b"{]"],
)
def test_invalid_json_is_c101_and_the_next_line_is_checked(check, line: bytes) -> None:
    result = check(line + b"\n" + BAD_READY + b"\n")
    assert result.by_line == {(1, "C101"), (2, "S201")}
    assert "not valid JSON" in result.findings[0].message


@pytest.mark.parametrize(
    ("line", "kind"),
    [(b"[]", "array"), (b'"dialin-ready"', "string"), (b"42", "number"), (b"-1.5e3", "number"), (b"true", "boolean"),
     (b"null", "null")],
)
def test_json_that_is_not_an_object_is_c102(check, line: bytes, kind: str) -> None:
    result = check(READY + b"\n" + line + b"\n" + BAD_READY + b"\n")
    assert result.by_line == {(2, "C102"), (3, "S201")}
    assert f"JSON {kind}, not an object" in result.findings[0].message
    assert result.summary.rejected_lines == 1


# --- duplicate keys -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "key", "pointer"),
    [
        (b'{"action":"x","a":1,"a":2}', "a", ""),
        (b'{"action":"x","a":1,"b":2,"a":1}', "a", ""),  # the same value twice is still a duplicate
        (b'{"action":"x","o":{"k":1,"k":2}}', "k", "/o"),
        (b'{"action":"x","o":{"p":{"k":1,"k":2}}}', "k", "/o/p"),
        (b'{"action":"x","l":[1,{"k":1,"k":2}]}', "k", "/l/1"),
        (b'{"action":"x","l":[[],{"q":[{},{"k":1,"k":2}]}]}', "k", "/l/1/q/1"),
        (b'{"action":"x","a\\u0062":1,"ab":2}', "ab", ""),  # the same key, spelt with an escape
        (b'{"action":"x","a\\"b":1,"a\\"b":2}', 'a"b', ""),
        (b'{"action":"x","a" :1,"a":2}', "a", ""),  # white space before the colon
        (b'{"action":"x","a"\t:1, "a"  :  2}', "a", ""),
        (b'{ "action" : "x" , "a" : 1 , "a" : 2 }', "a", ""),
        (b'{"action":"x","a/b~c":{"k":1,"k":2}}', "k", "/a~1b~0c"),
        (b'{"action":"x","s":"{","a":1,"a":2}', "a", ""),  # a brace inside a string
        (b'{"action":"x","action":"x"}', "action", ""),
    ],
)
def test_duplicate_keys_are_c104_with_the_object_pointer(check, line: bytes, key: str, pointer: str) -> None:
    result = check(line + b"\n", allow_empty=True)
    dup = [f for f in result.findings if f.rule == "C104"]
    assert len(dup) == 1, result.findings
    assert dup[0].line == 1
    assert json.dumps(key) in dup[0].message  # quoted as JSON quotes it
    assert dup[0].pointer == pointer


@pytest.mark.parametrize(
    "line",
    [
        b'{"action":"x","a":"b\\":1,\\"a\\":2"}',  # '":' inside a value
        b'{"action":"x","a":"\\":","b":"\\":"}',
        b'{"action":"x","a":1,"A":2,"a ":3," a":4}',  # keys that merely look alike
        b'{"action":"x","ab":1,"a\\\\b":2,"a\\/b":3}',  # a\\b and a/b differ from ab
        b'{"action":"x","a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}',  # same key, different objects
        b'{"action":"x","k":"{\\"k\\":1,\\"k\\":2}"}',  # a duplicate inside a JSON string
        b'{"action":"x","s":"{{{","t":"}}}","a":{"b":1}}',
        b'{"action" : "x", "sip\\u0043allId" : "c", "sipcallid": "d"}',
    ],
)
def test_no_false_duplicate_key(check, line: bytes) -> None:
    result = check(line + b"\n", allow_empty=True)
    assert "C104" not in result.rules


def test_duplicate_key_event_is_still_checked_with_the_last_value(check, event, lines) -> None:
    connected = json.dumps(event("dialin-connected"), separators=(",", ":")).encode()
    stopped = json.dumps(event("dialin-stopped"), separators=(",", ":")).encode()
    dup = stopped[:-1] + b',"sessionId":"not-seen-before"}'
    result = check(connected + b"\n" + dup + b"\n")
    # The duplicate is reported, and the event is tracked with its last sessionId.
    assert result.by_line == {(2, "C104"), (2, "L302")}


# --- nesting ------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [254, 255, 600, 1000, 1024])
def test_deep_but_accepted_nesting_does_not_crash(check, depth: int) -> None:
    # orjson reads 1024 levels but writes only 254: the duplicate-key proof must not raise.
    line = b'{"action":"x","n":' + b'{"a":' * (depth - 1) + b"1" + b"}" * depth
    result = check(line + b"\n" + BAD_READY + b"\n", allow_empty=True)
    assert result.by_line == {(2, "S201")}


@pytest.mark.parametrize("depth", [300, 1000])
def test_duplicate_key_found_deep_down(check, depth: int) -> None:
    line = b'{"action":"x","n":' + b"[" * (depth - 3) + b'{"k":1,"k":2}' + b"]" * (depth - 3) + b"}"
    result = check(line + b"\n", allow_empty=True)
    dup = [f for f in result.findings if f.rule == "C104"]
    assert len(dup) == 1
    assert dup[0].pointer == "/n" + "/0" * (depth - 3)


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_nesting_100000_deep_is_c108_in_bounded_time(check, opener: bytes) -> None:
    line = opener * 100_000 + b"1" + (b"]" if opener == b"[" else b"}") * 100_000
    start = time.perf_counter()
    result = check(line + b"\n" + BAD_READY + b"\n")
    assert time.perf_counter() - start < 5
    assert result.by_line == {(1, "C108"), (2, "S201")}
    assert "1024" in result.findings[0].message


def test_unclosed_nesting_100000_deep_is_a_finding(check) -> None:
    result = check(b"[" * 100_000 + b"\n" + BAD_READY + b"\n")
    assert result.by_line in ({(1, "C108"), (2, "S201")}, {(1, "C101"), (2, "S201")})


# --- long lines ---------------------------------------------------------------------------
def test_line_over_the_limit_is_c107_and_skipped(check) -> None:
    long = b'{"action":"dialin-ready","x":"' + b"y" * 5000 + b'"}'
    result = check(READY + b"\n" + long + b"\n" + BAD_READY + b"\n" + long, max_line_bytes=1000)
    assert result.by_line == {(2, "C107"), (3, "S201"), (4, "C107")}
    assert f"{len(long) + 1:,} bytes" in result.findings[0].message
    assert result.summary.lines == 4
    assert result.summary.rejected_lines == 2


def test_line_exactly_at_the_limit_is_read(check) -> None:
    assert check(READY + b"\n", max_line_bytes=len(READY)).findings == []
    assert check(READY, max_line_bytes=len(READY)).findings == []
    assert check(READY, max_line_bytes=len(READY) - 1).rules == ["C107", "C111"]


def test_a_100_mb_line_is_c107_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.ndjson"
    chunk = b"x" * (1 << 20)
    with path.open("wb") as f:
        f.write(READY + b"\n" + b'{"action":"dialin-ready","blob":"')
        for _ in range(100):
            f.write(chunk)
        f.write(b'"}\n' + BAD_READY + b"\n" + READY + b"\n")
    size = path.stat().st_size
    assert size > 100 * (1 << 20)
    tracemalloc.start()
    try:
        found, summary = _check_path(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == [(2, "C107"), (3, "S201")]
    assert summary.lines == 4
    assert summary.telephony_events == 3
    assert peak < 24 * (1 << 20), f"peak {peak:,} bytes while skipping a {size:,}-byte line"


# --- files, folders, gzip -----------------------------------------------------------------
def test_empty_file_is_c111(tmp_path: Path) -> None:
    path = tmp_path / "empty.ndjson"
    path.write_bytes(b"")
    found, summary = _check_path(path)
    assert found == [(0, "C111")]
    assert summary.lines == 0
    assert _check_path(path, allow_empty=True)[0] == []


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def test_gzip_is_recognised_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    data = READY + b"\n" + BAD_READY + b"\n"
    (tmp_path / "a.ndjson").write_bytes(_gz(data))
    (tmp_path / "b.ndjson.gz").write_bytes(data)
    for name in ("a.ndjson", "b.ndjson.gz"):
        found, summary = _check_path(tmp_path / name)
        assert found == [(2, "S201")]
        assert summary.lines == 2


def test_truncated_gzip_is_c110_after_the_earlier_lines_were_checked(tmp_path: Path) -> None:
    body = b"".join((BAD_READY if i == 5 else READY) + b"\n" for i in range(1, 2001))
    compressed = _gz(body)
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    found, summary = _check_path(path)
    assert found[0] == (5, "S201")
    assert found[-1] == (summary.lines + 1, "C110")
    assert [rule for _, rule in found] == ["S201", "C110"]
    assert 0 < summary.lines < 2000
    assert summary.lines == summary.blank_lines + summary.rejected_lines + summary.events


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-8] + b"\x00" * 8,  # wrong CRC and length
        lambda c: c + b"garbage after the stream",
        lambda c: c[:10] + bytes(b ^ 0x5A for b in c[10:40]) + c[40:],  # corrupt deflate data
        lambda c: c[:5],  # a gzip header cut short
    ],
    ids=["bad-crc", "trailing-garbage", "corrupt-deflate", "header-only"],
)
def test_corrupt_gzip_is_c110_and_does_not_raise(tmp_path: Path, mangle) -> None:
    body = b"".join(READY + b"\n" for _ in range(50))
    path = tmp_path / "bad.ndjson.gz"
    path.write_bytes(mangle(_gz(body)))
    found, summary = _check_path(path)
    c110 = [line for line, rule in found if rule == "C110"]
    assert c110 == [summary.lines + 1]
    # A stream broken before its first event also saw no telephony event.
    expected = {"C110"} if summary.telephony_events else {"C110", "C111"}
    assert {rule for _, rule in found} == expected


def test_binary_garbage_gives_findings_not_an_exception(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 64 + b"\n" + os.urandom(20_000) + b"\n\x00\x00\x00\n"
    path = tmp_path / "garbage.ndjson"
    path.write_bytes(garbage + READY + b"\n")
    found, summary = _check_path(path)
    assert summary.lines == _physical_lines(garbage + READY + b"\n")
    assert summary.lines == summary.blank_lines + summary.rejected_lines + summary.events
    assert summary.telephony_events == 1
    assert found and {rule for _, rule in found} <= {"C101", "C105", "C102", "C103", "C109"}
    assert all(line < summary.lines for line, _ in found)


def test_capture_files_reads_a_folder_recursively(tmp_path: Path) -> None:
    for name in ("b.ndjson", "a.jsonl", "sub/c.ndjson.gz", "sub/d.jsonl.gz", "notes.txt", "e.json", "f.ndjson.bak"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = [Path(p).relative_to(tmp_path).as_posix() for p in capture_files(str(tmp_path))]
    assert found == ["a.jsonl", "b.ndjson", "sub/c.ndjson.gz", "sub/d.jsonl.gz"]


def test_capture_files_errors_name_the_path(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no captures here")
    with pytest.raises(CaptureUnreadable, match="holds no captures"):
        capture_files(str(tmp_path))
    missing = str(tmp_path / "missing.ndjson")
    with pytest.raises(CaptureUnreadable, match="no such file") as info:
        capture_files(missing)
    assert missing in str(info.value)
    assert capture_files("-") == ["-"]
    # A file with any name is taken as it is, when named directly.
    (tmp_path / "capture.log").write_bytes(READY)
    assert capture_files(str(tmp_path / "capture.log")) == [str(tmp_path / "capture.log")]


def test_open_capture_of_a_missing_file_is_capture_unreadable(tmp_path: Path) -> None:
    with pytest.raises(CaptureUnreadable) as info:
        open_capture(str(tmp_path / "nope.ndjson"))
    assert "nope.ndjson" in str(info.value)
    summary = CaptureSummary("x")
    with pytest.raises(CaptureUnreadable):
        next(check_file(str(tmp_path / "nope.ndjson"), summary))


def test_counts_are_written_back_when_the_reader_stops_early() -> None:
    counts = LineCounts()
    capture = b"\n" + BAD_READY + b"\n" + BAD_READY + b"\n" + BAD_READY + b"\n"
    reader = check_lines(io.BytesIO(capture), counts, Options())
    assert next(reader).line == 2  # type: ignore[union-attr]
    reader.close()
    assert (counts.lines, counts.blank_lines) == (2, 1)


def test_the_line_stage_yields_records_and_findings_in_line_order() -> None:
    counts = LineCounts()
    stopped = b'{"action":"dialin-stopped","callClientId":"c","sessionId":"s","provider":"daily"}'
    items = list(check_lines(io.BytesIO(stopped + b"\n[]\n\n" + BAD_READY), counts, Options()))
    assert [item[0] if isinstance(item, list) else item.line for item in items] == [1, 2, 4]  # type: ignore[union-attr]
    assert items[0] == [1, "dialin-stopped", "c", "s", None, None, None, "daily"]
    assert [item.rule for item in items[1:]] == ["C102", "S201"]  # type: ignore[union-attr]
    assert (counts.lines, counts.blank_lines, counts.rejected_lines) == (4, 1, 1)


# --- reading lines in batches -----------------------------------------------------------
class _Trickle(io.RawIOBase):
    """A stream that hands out its bytes in pieces of the given sizes (then the rest), as a
    pipe or a slow disk does, so that lines and CRLFs fall across block boundaries."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes, self.at = data, sizes, 0

    def readable(self) -> bool:
        return True

    def read1(self, n: int = -1) -> bytes:
        size = self.sizes.pop(0) if self.sizes else len(self.data)
        piece = self.data[self.at : self.at + max(1, min(size, n))]
        self.at += len(piece)
        return piece


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.binary(max_size=30), st.sampled_from([b"", b"\r", b"x" * 70, b"y" * 200])), max_size=12
    ).map(b"\n".join),
    st.lists(st.integers(1, 90), max_size=30),
    st.integers(1, 100),
    st.integers(1, 64),
)
def test_batched_reading_hands_on_every_line_once_in_order(
    data: bytes, sizes: list[int], max_line_bytes: int, block: int
) -> None:
    expected = data.split(b"\n")
    if expected[-1] == b"":
        expected.pop()  # a final newline ends the last line; it does not begin another
    counts = LineCounts()
    with mock.patch("conformance.check.reading.BLOCK_BYTES", block):
        items = list(read_lines(_Trickle(data, sizes), counts, max_line_bytes))
    got: dict[int, bytes | str] = {}
    for item in items:
        if isinstance(item, tuple):
            first, batch = item
            assert batch
            for offset, raw in enumerate(batch):
                got[first + offset] = raw
        else:
            assert item.rule == "C107"
            got[item.line] = "C107"
    assert sorted(got) == list(range(1, len(expected) + 1))  # every line once, numbered in order
    for number, raw in enumerate(expected, 1):
        assert got[number] == ("C107" if len(raw) > max_line_bytes else raw), number
    # read_lines counts the lines it does not hand on; the consumer counts the others.
    assert counts.lines == counts.rejected_lines == sum(len(raw) > max_line_bytes for raw in expected)


@pytest.mark.parametrize("compressed", [False, True])
def test_progress_in_one_process_follows_the_file_to_its_end(tmp_path: Path, compressed: bool) -> None:
    data = (READY + b"\n") * 30_000  # about 3 MiB: several blocks
    path = tmp_path / ("c.ndjson.gz" if compressed else "c.ndjson")
    path.write_bytes(gzip.compress(data, mtime=0) if compressed else data)
    size = path.stat().st_size
    calls: list[int] = []
    summary = CaptureSummary(str(path))
    assert list(check_file(str(path), summary, Options(jobs=1), progress=calls.append)) == []
    assert summary.lines == 30_000
    assert len(calls) >= 2 and calls == sorted(calls), calls
    assert calls[0] < size and calls[-1] == size  # offsets in the file as stored (compressed or not)


def test_a_long_line_arriving_in_small_pieces_is_read_in_linear_time() -> None:
    # A line just under the limit, trickling in 1 KiB at a time (a slow pipe): joining the
    # pieces again at every read would copy gigabytes; they are joined once.
    line = b'{"action":"x","pad":"' + b"p" * (DEFAULT_MAX_LINE_BYTES - 40) + b'"}'
    data = line + b"\n" + READY + b"\n"
    counts = LineCounts()
    start = time.perf_counter()
    items = list(read_lines(_Trickle(data, [1024] * (len(data) // 1024 + 1)), counts))
    assert time.perf_counter() - start < 5  # bounded time, as for deep nesting (§5)
    assert [(first, [len(raw) for raw in batch]) for first, batch in items] == [(1, [len(line)]), (2, [len(READY)])]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_is_checked_with_a_progress_callback_that_cannot_be_told_where_it_is(tmp_path: Path) -> None:
    # The CLI draws a progress bar whenever stderr is a terminal, whatever it reads: a pipe
    # has no position, so it gets no progress, and is read to the end all the same.
    fifo = tmp_path / "events.ndjson"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=((READY + b"\n") * 20_000,))
    writer.start()
    calls: list[int] = []
    summary = CaptureSummary(str(fifo))
    try:
        findings = list(check_file(str(fifo), summary, Options(jobs=1), progress=calls.append))
    finally:
        writer.join()
    assert findings == []
    assert summary.lines == 20_000
    assert calls == []
