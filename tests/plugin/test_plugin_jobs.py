"""``pytest --telephony-conformance FILE --telephony-jobs N``, through pytester: a capture
checked by worker processes fails the same items, listing the same lines, as one process."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sessions import CLIENT, dialin_session

from conformance.check.parallel import CHUNK_BYTES

NO_ENDPOINT = '{"action":"dialin-ready","callClientId":"c","provider":"daily"}'  # S201


def _dump(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


@pytest.fixture
def defective(pytester: pytest.Pytester) -> tuple[Path, set[tuple[int, str]]]:
    """A capture of two 4 MiB ranges: S201 at line 3, a C101 line straddling the range
    boundary, and at the last two lines a start-less stop (an L302 warning) and a second stop
    (an L303 error)."""
    lines = [*map(_dump, dialin_session(0, busy=False)), NO_ENDPOINT]
    planted = {(3, "S201")}
    size = sum(len(line) + 1 for line in lines)
    n = 1
    while size < CHUNK_BYTES + 100_000:
        if not any(rule == "C101" for _, rule in planted) and size > CHUNK_BYTES - 500:
            lines.append('{"action":"dialin-ready","pad":"' + "x" * 1000)
            planted.add((len(lines), "C101"))
            size += len(lines[-1]) + 1
        for line in map(_dump, dialin_session(n, busy=False)):
            lines.append(line)
            size += len(line) + 1
        n += 1
    stop = _dump(
        {"action": "dialin-stopped", "callClientId": CLIENT, "sessionId": "never-started", "provider": "daily"}
    )
    lines += [stop, stop]
    planted |= {(len(lines) - 1, "L302"), (len(lines), "L303")}
    path = pytester.path / "defective.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return path, planted


def _located(output: str) -> set[tuple[int, str]]:
    found = re.findall(r"defective\.ndjson:([0-9]+): ([CSL][0-9]{3}) (?:error|warning): ", output)
    return {(int(line), rule) for line, rule in found}


def _failed_items(output: str) -> list[str]:
    """The rule of each failing item (``FAILED telephony-conformance::PATH::S201 name``)."""
    return sorted(re.findall(r"^FAILED telephony-conformance::\S+::([CSL][0-9]{3}) ", output, re.MULTILINE))


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["one-process-pytest", "xdist"])
def test_jobs_fail_the_same_items_with_the_same_lines(
    pytester: pytest.Pytester, defective: tuple[Path, set[tuple[int, str]]], extra: list[str]
) -> None:
    if extra:
        pytest.importorskip("xdist")
    path, planted = defective
    runs = {}
    for jobs in ("1", "2"):
        result = pytester.runpytest_subprocess(
            "--telephony-conformance", str(path), "--telephony-jobs", jobs, "-p", "no:cacheprovider", *extra
        )
        assert result.ret == 1
        out = result.stdout.str()
        assert "Traceback" not in out
        outcomes = result.parseoutcomes()
        runs[jobs] = (outcomes["failed"], outcomes["passed"], _failed_items(out), _located(out))
    assert runs["2"] == runs["1"]
    failed, _, items, located = runs["2"]
    assert failed == 3
    assert items == ["C101", "L303", "S201"]
    assert located == planted


def test_negative_jobs_is_a_usage_error(
    pytester: pytest.Pytester, defective: tuple[Path, set[tuple[int, str]]]
) -> None:
    path, _ = defective
    result = pytester.runpytest_subprocess("--telephony-conformance", str(path), "--telephony-jobs", "-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*telephony-conformance*jobs*-1*"])
    assert "Traceback" not in result.stderr.str()
