"""--report FORMAT=PATH: machine reports written to files from the same run as the text."""

from __future__ import annotations

import json
from pathlib import Path

from _gates import assert_usage_error, run_cli


def test_one_run_writes_each_report_and_prints_text(defective: Path, tmp_path: Path) -> None:
    json_path, github_path = tmp_path / "report.json", tmp_path / "annotations.txt"
    done = run_cli("check", str(defective), "--report", f"json={json_path}", "--report", f"github={github_path}")
    assert done.returncode == 1
    assert f"{defective}:2: S201 error:" in done.stdout  # the text for people, on stdout
    alone = run_cli("check", str(defective), "--format", "json")
    assert json.loads(json_path.read_text()) == json.loads(alone.stdout)
    assert github_path.read_text().startswith("::error ")


def test_format_picks_what_goes_to_stdout(defective: Path, tmp_path: Path) -> None:
    done = run_cli("check", str(defective), "--format", "json", "--report", f"text={tmp_path / 'out.txt'}")
    assert json.loads(done.stdout)["summary"]["passed"] is False
    assert "S201 error" in (tmp_path / "out.txt").read_text()


def test_an_unwritable_report_fails_before_checking(defective: Path, tmp_path: Path) -> None:
    done = run_cli("check", str(defective), "--report", f"json={tmp_path / 'no' / 'such' / 'dir.json'}")
    assert_usage_error(done, "cannot write the json report", "dir.json")
    assert done.stdout == ""


def test_a_malformed_report_argument_is_a_usage_error(defective: Path) -> None:
    assert_usage_error(run_cli("check", str(defective), "--report", "json"), "FORMAT=PATH")
    assert_usage_error(run_cli("check", str(defective), "--report", "pdf=x.pdf"), "unknown format 'pdf'")
