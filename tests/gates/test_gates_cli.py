"""Severities, --fail-on and --require-actions, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _gates import SAMPLE, assert_usage_error, run_cli


def _rules_found(stdout: str) -> dict[str, str]:
    report = json.loads(stdout)
    return {f["rule"]: f["severity"] for c in report["captures"] for f in c["findings"]}


def test_severity_override_changes_the_findings_severity_and_the_exit_code(defective: Path) -> None:
    plain = run_cli("check", str(defective), "--format", "json", "--select", "S201,L302")
    assert plain.returncode == 1 and _rules_found(plain.stdout) == {"S201": "error", "L302": "warning"}
    changed = run_cli(
        "check", str(defective), "--format", "json", "--select", "S201,L302",
        "--severity", "S201=warning", "--severity", "L302=error",
    )
    assert changed.returncode == 1, changed.stderr
    assert _rules_found(changed.stdout) == {"S201": "warning", "L302": "error"}
    report = json.loads(changed.stdout)
    assert report["options"]["severity"] == {"S201": "warning", "L302": "error"}
    assert report["captures"][0]["warnings"] == 2 and report["captures"][0]["errors"] == 1
    lowered = run_cli("check", str(defective), "--select", "S201", "--severity", "S201=warning")
    assert lowered.returncode == 0


def test_severity_names_a_rule_by_name_and_off_skips_it(defective: Path) -> None:
    done = run_cli(
        "check", str(defective), "--format", "json",
        "--severity", "missing-required-field=off", "--severity", "c101=warning", "--severity", "L302=off",
    )
    assert done.returncode == 0, done.stdout
    assert _rules_found(done.stdout) == {"C101": "warning"}


def test_raising_a_warning_to_an_error_fails(warned: Path) -> None:
    assert run_cli("check", str(warned)).returncode == 0
    done = run_cli("check", str(warned), "--severity", "L301=error")
    assert done.returncode == 1
    assert "L301 error:" in done.stdout


@pytest.mark.parametrize(
    ("fail_on", "strict", "expected"),
    [
        ("error", False, 0),
        ("warning", False, 1),
        ("never", False, 0),
        (None, True, 1),
        ("error", True, 0),  # an explicit --fail-on wins over --strict's "warnings fail"
    ],
)
def test_fail_on_sets_what_fails(warned: Path, fail_on: str | None, strict: bool, expected: int) -> None:
    args = ["check", str(warned), "--format", "json"]
    args += ["--fail-on", fail_on] if fail_on else []
    args += ["--strict"] if strict else []
    done = run_cli(*args)
    assert done.returncode == expected, done.stdout
    assert json.loads(done.stdout)["options"]["failOn"] == (fail_on or "warning")


def test_fail_on_never_reports_errors_and_exits_0(defective: Path) -> None:
    done = run_cli("check", str(defective), "--fail-on", "never")
    assert done.returncode == 0
    assert "S201 error:" in done.stdout and "C101 error:" in done.stdout


def test_require_actions_fails_on_a_capture_without_one(tmp_path: Path) -> None:
    path = tmp_path / "no-answer.ndjson"
    lines = [line for line in SAMPLE.read_text().splitlines() if "dialout-answered" not in line]
    path.write_text("\n".join(lines) + "\n")
    done = run_cli("check", str(path), "--require-actions", "dialout-answered,dialin-connected")
    assert done.returncode == 1
    found = [line for line in done.stdout.splitlines() if " C112 error:" in line]
    assert len(found) == 1 and "dialout-answered never appears" in found[0], done.stdout
    assert found[0].startswith(f"{path}: C112 error:")  # the capture as a whole, no line


def test_require_actions_passes_when_each_appears_by_any_surfaces_name() -> None:
    done = run_cli("check", str(SAMPLE), "--require-actions", "dialout-answered, dialin.connected,on_dialin_stopped")
    assert done.returncode == 0, done.stdout
    report = run_cli("check", str(SAMPLE), "--format", "json", "--require-actions", "dialout.answered")
    assert json.loads(report.stdout)["options"]["requireActions"] == ["dialout-answered"]


def test_require_actions_counts_a_webhook_delivery(tmp_path: Path) -> None:
    path = tmp_path / "hooks.ndjson"
    payload = {"sipCallId": "c@sip.daily.co", "sessionId": "s", "callClientId": "x", "timestamp": 1}
    path.write_text(json.dumps({"type": "dialout.answered", "payload": payload}) + "\n")
    done = run_cli("check", str(path), "--format", "json", "--require-actions", "dialout-answered")
    assert "C112" not in _rules_found(done.stdout)
    missing = run_cli("check", str(path), "--format", "json", "--require-actions", "dialin-connected")
    assert "C112" in _rules_found(missing.stdout)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--severity", "S999=error"], ["unknown rule 'S999'"]),
        (["--severity", "S201"], ["'S201' is not RULE=LEVEL"]),
        (["--severity", "S201=fatal"], ["severity of S201", "'fatal'"]),
        (["--fail-on", "sometimes"], ["--fail-on", "sometimes"]),
        (["--require-actions", "dialout-answerd"], ["'dialout-answerd'", "did you mean 'dialout-answered'"]),
    ],
)
def test_bad_gate_arguments_are_one_line_errors(args: list[str], needles: list[str]) -> None:
    assert_usage_error(run_cli("check", str(SAMPLE), *args), *needles)
