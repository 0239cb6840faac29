"""``telephony-conformance check --jobs N``, run as a real subprocess: a capture checked by
several worker processes gives the very report one process gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sessions import CLIENT, dialin_session
from test_cli import assert_usage_error, cli, physical_lines

from conformance.check.parallel import CHUNK_BYTES


def _dump(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


LONG_LIVED = {
    "action": "dialout-connected",
    "callClientId": CLIENT,
    "sessionId": "7d208e2a-520b-4a8d-a2c9-3a36dfa0d342",
    "destination": "+12098888888",
    "origin": "+13977888822",
    "sipCallId": "q@sip",
    "provider": "daily",
}
PAD = "x" * 2000
# C101: an object cut short; it straddles the first range boundary.
BAD_JSON = b'{"action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:r@sip.daily.co","pad":"' + PAD.encode()
# S201: a dialin-ready with no sipEndpoint; it straddles the second range boundary.
NO_ENDPOINT = _dump({"action": "dialin-ready", "callClientId": CLIENT, "provider": "daily", "pad": PAD})
# L306: the long-lived dial-out, opened at line 2, connected again in the third range.
CONNECTED_AGAIN = _dump(LONG_LIVED)


@pytest.fixture(scope="module")
def big_defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, str]]:
    """About 9 MB (three 4 MiB ranges) of valid sessions with three planted defects, at
    known lines: ``{line: rule}``."""
    lines: list[bytes] = [_dump({"action": "joined-meeting", "callClientId": CLIENT}), _dump(LONG_LIVED)]
    planted: dict[int, str] = {}
    size = sum(len(line) + 1 for line in lines)

    def add(line: bytes) -> None:
        nonlocal size
        lines.append(line)
        size += len(line) + 1

    def plant(line: bytes, rule: str) -> None:
        add(line)
        planted[len(lines)] = rule

    n = 0
    while size < 9_000_000:
        if "C101" not in planted.values() and size > CHUNK_BYTES - 1000:
            start = size
            plant(BAD_JSON, "C101")
            assert start < CHUNK_BYTES < size
        elif "S201" not in planted.values() and size > 2 * CHUNK_BYTES - 1000:
            start = size
            plant(NO_ENDPOINT, "S201")
            assert start < 2 * CHUNK_BYTES < size
        elif "L306" not in planted.values() and size > 8_900_000:
            plant(CONNECTED_AGAIN, "L306")
        for line in map(_dump, dialin_session(n)):
            add(line)
        n += 1
    assert set(planted.values()) == {"C101", "S201", "L306"}
    path = tmp_path_factory.mktemp("jobs") / "big.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, planted


@pytest.fixture(scope="module")
def one_process_report(big_defective: tuple[Path, dict[int, str]]) -> str:
    path, _ = big_defective
    done = cli("check", "--format", "json", "--jobs", "1", str(path))
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_one_process_report_names_exactly_the_planted_lines(
    big_defective: tuple[Path, dict[int, str]], one_process_report: str
) -> None:
    path, planted = big_defective
    [capture] = json.loads(one_process_report)["captures"]
    assert {f["line"]: f["rule"] for f in capture["findings"]} == planted
    assert len(capture["findings"]) == len(planted)
    assert capture["lines"] == physical_lines(path)
    [l306] = [f for f in capture["findings"] if f["rule"] == "L306"]
    assert "line 2" in l306["message"]  # the first dialout-connected, two ranges earlier


@pytest.mark.parametrize("jobs", [["--jobs", "2"], ["--jobs", "3"], []])
def test_jobs_print_the_same_json_as_one_process(
    big_defective: tuple[Path, dict[int, str]], one_process_report: str, jobs: list[str]
) -> None:
    path, _ = big_defective
    done = cli("check", "--format", "json", *jobs, str(path))
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    assert done.stdout == one_process_report


def test_jobs_print_the_same_text_as_one_process(big_defective: tuple[Path, dict[int, str]]) -> None:
    path, planted = big_defective
    one = cli("check", "--jobs", "1", str(path))
    two = cli("check", "--jobs", "2", str(path))
    assert (one.returncode, two.returncode) == (1, 1)
    assert two.stdout == one.stdout
    for line, rule in planted.items():
        assert f"{path}:{line}: {rule} error: " in two.stdout


@pytest.mark.parametrize(("value", "needle"), [("-1", "-1"), ("two", "two")])
def test_bad_job_count_is_exit_2_with_one_line(
    big_defective: tuple[Path, dict[int, str]], value: str, needle: str
) -> None:
    path, _ = big_defective
    done = cli("check", "--jobs", value, str(path))
    assert_usage_error(done, "jobs", needle)


def test_a_job_count_past_the_cap_is_exit_2_with_one_line(tmp_path: Path) -> None:
    # --jobs 4000 forked 4000 processes for a 19-line file, hung, and left its temp folder.
    path = tmp_path / "small.ndjson"
    path.write_bytes(b'{"action":"participant-joined"}\n' * 19)
    done = cli("check", "--jobs", "4000", str(path))
    assert_usage_error(done, "jobs 4000", "at most")
