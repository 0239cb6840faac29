"""Broken identity fields and lost records (a broken line that names a session) across
worker processes: a parallel check agrees with one process on captures that mix them with
whole sessions, and the memory of lost records stays bounded in the calling process.

``PROPERTY_EXAMPLES=3000 pytest tests/unit/test_lost_records.py`` for a longer run (written
by a review helper; 3,000 examples of each passed).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_parallel import assert_same, in_parallel, one_process

from conformance.check import sessions as lifecycle
from conformance.check.lines import check_lines
from conformance.check.parallel import check_lines_parallel
from conformance.check.ranges import RangeSessions, join
from conformance.check.sessions import SessionTracker
from conformance.check.tally import Tally as LineTally
from conformance.options import Options
from conformance.schemas import ACTIONS as ALL_ACTIONS

N = int(os.environ.get("PROPERTY_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=N,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)

ACTIONS = [action for action in ALL_ACTIONS if action != "dialin-ready"]  # the actions of a session
TYPOS = ["dialin_connected", "dialout-conected", "dialin-stoped", "dialout-answerd"]
MISSING = object()
SIDS = st.sampled_from(["s1", "s2", "s3"])
CLIENTS = st.sampled_from(["A", "B", MISSING])


def _dump(event: dict[str, Any], spaced: bool) -> bytes:
    event = {k: v for k, v in event.items() if v is not MISSING}
    seps = (", ", ": ") if spaced else (",", ":")
    return json.dumps(event, separators=seps).encode()


@st.composite
def event_line(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["good"] * 6 + ["typo", "noaction", "cut", "garbled", "badsid", "pad", "blank"]))
    sid = draw(SIDS)
    base = {
        "callClientId": draw(st.one_of(CLIENTS, st.just(MISSING), st.just(7))),
        "sessionId": sid,
        "sipCallId": draw(st.sampled_from(["c1", "c1", "c2", MISSING, 7, [1]])),
        "provider": draw(st.sampled_from(["daily", "daily", "twilio", MISSING, 7, ""])),
        "destination": draw(st.sampled_from(["+12098888888", "+13977888822", MISSING, 5, "x"])),
        "origin": draw(st.sampled_from(["+12098888888", MISSING, 5])),
        "errorMsg": "e",
    }
    spaced = draw(st.booleans())
    if kind == "good":
        return _dump({"action": draw(st.sampled_from(ACTIONS)), **base}, spaced)
    if kind == "typo":
        return _dump({"action": draw(st.sampled_from(TYPOS)), **base}, spaced)
    if kind == "noaction":
        action = draw(st.sampled_from([MISSING, None, 5, ["dialin-stopped"]]))
        return _dump({"action": action, **base}, spaced)
    if kind == "cut":
        line = _dump({"action": draw(st.sampled_from(ACTIONS)), **base}, spaced)
        return line[: draw(st.integers(1, len(line) - 1))]
    if kind == "garbled":
        line = _dump({"action": draw(st.sampled_from(ACTIONS)), **base}, spaced)
        return line + draw(st.sampled_from([b"}", b",", b"x", b" NaN"]))
    if kind == "badsid":
        return _dump(
            {
                "action": draw(st.sampled_from(ACTIONS)),
                **base,
                "sessionId": draw(st.sampled_from([5, None, MISSING, [sid]])),
            },
            spaced,
        )
    if kind == "pad":
        return _dump({"action": "participant-joined", "pad": "x" * draw(st.integers(0, 120))}, False)
    return b""


WEBHOOK = b'{"type":"dialin.connected","id":"d1","payload":{"session_id":"s1","timestamp":1700000000}}'


@st.composite
def captures(draw: st.DrawFn, webhooks: bool = True) -> tuple[bytes, Options]:
    lines = draw(st.lists(event_line(), min_size=1, max_size=30))
    if webhooks and draw(st.integers(0, 9)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), WEBHOOK)
    data = b"\n".join(lines) + (b"\n" if draw(st.booleans()) else b"")
    options = Options(strict=draw(st.booleans()), partial=draw(st.integers(0, 4)) == 0, allow_empty=True)
    return data, options


def _run(data: bytes, options: Options, executor: Executor, chunk: int) -> None:
    fd, path = tempfile.mkstemp(suffix=".ndjson")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    try:
        assert_same(in_parallel(path, options, executor, chunk), one_process(data, path, options))
    finally:
        os.unlink(path)


@pytest.fixture
def small_window(monkeypatch: pytest.MonkeyPatch) -> int:
    """A window of a few lines (threads, so the workers see it too): the window's edge
    falls inside small captures and across ranges. Trackers read the default window when
    they are made, so this holds for the compiled module too (tests/wheel)."""
    monkeypatch.setattr(lifecycle, "ENDED_WINDOW_LINES", 6)
    return 6


@st.composite
def session_captures(draw: st.DrawFn) -> tuple[bytes, Options]:
    """Whole sessions (start, middle, stop), some with a broken start line (typo, cut short,
    no action), some with a broken identity field, interleaved; padding so that sessions
    cross range boundaries; session ids reused across sessions and call clients."""
    streams: list[list[bytes]] = []
    for _ in range(draw(st.integers(1, 6))):
        out = "dialout" if draw(st.booleans()) else "dialin"
        base = {
            "callClientId": draw(st.sampled_from(["A", "B", MISSING])),
            "sessionId": draw(st.sampled_from(["s1", "s2", "s3", "s4", "s5"])),
            "sipCallId": "c1",
            "provider": "daily",
            "errorMsg": "e",
        }
        if out == "dialout":
            base["destination"] = "+12098888888"
        events = [
            f"{out}-connected",
            *draw(
                st.lists(
                    st.sampled_from([f"{out}-warning", f"{out}-answered"] if out == "dialout" else [f"{out}-warning"]),
                    max_size=2,
                )
            ),
            f"{out}-stopped",
        ]
        lines = []
        for i, action in enumerate(events):
            event = {"action": action, **base}
            if draw(st.integers(0, 5)) == 0:
                event[draw(st.sampled_from(["sipCallId", "provider", "destination"]))] = draw(
                    st.sampled_from([7, [], "", "x"])
                )
            line = _dump(event, draw(st.booleans()))
            if i == 0 or draw(st.integers(0, 6)) == 0:
                how = draw(st.sampled_from(["keep", "keep", "typo", "cut", "noaction", "drop"]))
                if how == "typo":
                    line = _dump({**event, "action": action.replace("-", "_")}, False)
                elif how == "cut":
                    line = line[: draw(st.integers(len(line) // 2, len(line) - 1))]
                elif how == "noaction":
                    line = _dump({k: v for k, v in event.items() if k != "action"}, False)
                elif how == "drop":
                    continue
            lines.append(line)
        streams.append(lines)
    merged: list[bytes] = []
    for lines in streams:  # keep each session's order, interleave the sessions
        positions = sorted(draw(st.lists(st.integers(0, len(merged)), min_size=len(lines), max_size=len(lines))))
        for shift, (at, line) in enumerate(zip(positions, lines, strict=False)):
            merged.insert(at + shift, line)
    for _ in range(draw(st.integers(0, 8))):
        merged.insert(
            draw(st.integers(0, len(merged))),
            _dump({"action": "participant-joined", "pad": "x" * draw(st.integers(0, 200))}, False),
        )
    data = b"\n".join(merged) + b"\n"
    return data, Options(strict=draw(st.booleans()), partial=draw(st.integers(0, 5)) == 0, allow_empty=True)


#: Captures of lines drawn one by one, and of whole sessions interleaved.
CAPTURES: dict[str, Callable[[], st.SearchStrategy[tuple[bytes, Options]]]] = {
    "lines": captures,
    "sessions": session_captures,
}


@pytest.mark.parametrize("kind", CAPTURES)
@SETTINGS
@given(data=st.data(), chunk=st.integers(1, 300))
def test_parallel_equals_one_process(pool: ProcessPoolExecutor, kind: str, data: st.DataObject, chunk: int) -> None:
    capture, options = data.draw(CAPTURES[kind]())
    _run(capture, options, pool, chunk)


@pytest.mark.parametrize("kind", CAPTURES)
@SETTINGS
@given(data=st.data(), chunk=st.integers(1, 300))
def test_parallel_equals_one_process_small_window(
    small_window: int, kind: str, data: st.DataObject, chunk: int
) -> None:
    capture, options = data.draw(CAPTURES[kind]())
    with ThreadPoolExecutor(2) as threads:
        _run(capture, options, threads, chunk)


def test_lost_records_stay_bounded_in_the_calling_process(small_window: int, tmp_path: Path) -> None:
    """A capture whose broken lines name many session ids (a recorder that drops `action`,
    say) and whose sessions never end: the parallel join (adopt) forgets lost records past
    the window, as one process does, though no session ends to make it prune."""
    path = tmp_path / "lost.ndjson"
    path.write_bytes(b"".join(b'{"callClientId":"A","sessionId":"s%d"}\n' % i for i in range(30_000)))
    alone = SessionTracker()
    with open(path, "rb") as f:
        for item in check_lines(f, LineTally(), Options()):
            if type(item) is list:
                alone.feed(item)
    joined = SessionTracker()
    with ThreadPoolExecutor(2) as threads:
        for item in check_lines_parallel(str(path), LineTally(), Options(), 2, executor=threads, chunk_bytes=64 * 1024):
            if isinstance(item, RangeSessions):
                join(joined, item)
            elif type(item) is list:
                joined.feed(item)
    bound = 2 * max(len(alone.lost), lifecycle._MIN_PRUNE)
    assert len(joined.lost) <= bound, (len(joined.lost), len(alone.lost))
