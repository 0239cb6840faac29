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


def test_a_format_given_twice_or_a_report_to_stdout_is_a_usage_error(defective: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.sarif", tmp_path / "b.sarif"
    twice = run_cli("check", str(defective), "--report", f"sarif={a}", "--report", f"sarif={b}")
    assert_usage_error(twice, "--report sarif=… is given twice", "one file per format")
    assert not a.exists() and not b.exists()
    assert_usage_error(run_cli("check", str(defective), "--report", "json=-"), "use --format json")
    assert not (tmp_path / "-").exists()


def test_the_verdict_names_only_the_rules_that_ran(tmp_path: Path) -> None:
    capture = tmp_path / "calls.ndjson"
    capture.write_text('{"action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:r@sip.daily.co","provider":"daily"}\n')
    done = run_cli("check", str(capture), "--severity", "S202=off")
    assert done.returncode == 0, done.stdout + done.stderr
    (passed,) = [line for line in done.stdout.splitlines() if line.startswith("Passed:")]
    # Nothing is looked for by S205 without --strict, C112 without --require-actions, C113 without a baseline.
    assert "S205" not in passed and "C112" not in passed and "C113" not in passed and "S202" not in passed
    assert "Not checked (--select/--ignore, or --severity off): S202;" in done.stdout
