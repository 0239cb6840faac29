"""The GitLab Code Quality report: the fields GitLab reads, unique fingerprints, severities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _gates import GOOD, NO_ENDPOINT, SAMPLE, run_cli


def issues_of(*args: str, tmp_path: Path, cwd: Path | None = None) -> list[dict[str, Any]]:
    out = tmp_path / "gl-code-quality-report.json"
    done = run_cli("check", *args, "--report", f"gitlab={out}", cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    issues: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
    return issues


def test_each_finding_is_an_issue_with_the_fields_gitlab_reads(defective: Path, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    issues = issues_of(str(defective), tmp_path=tmp_path, cwd=tmp_path)
    assert [(i["check_name"].split()[0], i["location"]["lines"]["begin"]) for i in issues] == [
        ("S201", 2), ("S201", 4), ("L302", 5), ("C101", 6),
    ]
    assert [i["severity"] for i in issues] == ["major", "major", "minor", "major"]  # L302 is a warning
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["location"]["path"] == "defective.ndjson"
        assert issue["description"].startswith(issue["check_name"].split()[0] + " ")
    assert issues[0]["check_name"] == "S201 missing-required-field"


def test_fingerprints_are_unique_and_stable_across_recordings(tmp_path: Path) -> None:
    first, again = tmp_path / "a" / "calls.ndjson", tmp_path / "b" / "calls.ndjson"
    first.parent.mkdir()
    again.parent.mkdir()
    first.write_text("\n".join([GOOD, NO_ENDPOINT, NO_ENDPOINT, "{oops"]) + "\n")
    again.write_text("\n".join([GOOD, GOOD, NO_ENDPOINT, GOOD, NO_ENDPOINT, "{oops"]) + "\n")
    before = issues_of("calls.ndjson", tmp_path=tmp_path, cwd=first.parent)
    after = issues_of("calls.ndjson", tmp_path=tmp_path, cwd=again.parent)
    assert len({i["fingerprint"] for i in before}) == len(before) == 3
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]


def test_severities(warned: Path, tmp_path: Path) -> None:
    (issue,) = issues_of(str(warned), tmp_path=tmp_path)
    assert issue["severity"] == "minor"
    empty = tmp_path / "empty.ndjson"
    empty.write_text('{"action":"participant-joined"}\n')
    (issue,) = issues_of(str(empty), tmp_path=tmp_path)
    assert issue["severity"] == "critical" and issue["location"]["lines"]["begin"] == 1


def test_a_clean_run_is_an_empty_array(tmp_path: Path) -> None:
    assert issues_of(str(SAMPLE), tmp_path=tmp_path) == []
