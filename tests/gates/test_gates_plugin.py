"""Severities, --telephony-fail-on and --telephony-require-actions, through the pytest plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _gates import REPO, SAMPLE, run_cli
from _recordings import recording

from conformance.rules import RULES

# Items per capture: S205 only under strict, C112 only with required actions, C113 is the baseline's.
N_RULES = len(RULES) - 3


def test_severity_override_and_off(pytester: pytest.Pytester, defective: Path) -> None:
    result = pytester.runpytest_subprocess(
        "--telephony-conformance", str(defective),
        "--telephony-severity", "S201=warning",
        "--telephony-severity", "C101=off",
        "--telephony-severity", "L302=error",
    )
    # S201 now warns (its item passes), C101 is skipped (no item), L302 fails as an error.
    result.assert_outcomes(passed=N_RULES - 2, failed=1)
    result.stdout.fnmatch_lines(["*FAILED*defective.ndjson*L302*"])
    # The summary counts each rule under the severity this run gave it.
    (findings,) = [line for line in result.stdout.lines if line.startswith("Findings:")]
    errors, _, warnings = findings.partition("), ")
    assert "S201" in warnings and "S201" not in errors and "L302" in errors, findings


def test_fail_on_warning_and_never(pytester: pytest.Pytester, warned: Path) -> None:
    assert pytester.runpytest_subprocess("--telephony-conformance", str(warned)).ret == 0
    failing = pytester.runpytest_subprocess("--telephony-conformance", str(warned), "--telephony-fail-on", "warning")
    failing.assert_outcomes(passed=N_RULES - 1, failed=1)
    never = pytester.runpytest_subprocess(
        "--telephony-conformance", str(warned), "--telephony-fail-on", "never", "--telephony-severity", "L301=error"
    )
    never.assert_outcomes(passed=N_RULES)


def test_require_actions(pytester: pytest.Pytester) -> None:
    path = pytester.path / "no-answer.ndjson"
    path.write_text("\n".join(x for x in SAMPLE.read_text().splitlines() if "dialout-answered" not in x) + "\n")
    result = pytester.runpytest_subprocess(
        "--telephony-conformance", str(path), "--telephony-require-actions", "dialout-answered"
    )
    result.assert_outcomes(passed=N_RULES, failed=1)  # C112's item is there with required actions
    result.stdout.fnmatch_lines(["*C112 required-action-missing*", "*dialout-answered never appears*"])


def test_bad_severity_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--telephony-conformance", str(SAMPLE), "--telephony-severity", "L302=loud"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*telephony-conformance: severity of L302: 'loud' is not one of error, warning, off*"])


def _adopt(pytester: pytest.Pytester) -> tuple[Path, Path]:
    capture = pytester.path / "recorded.ndjson"
    capture.write_text(recording(seed=1))
    baseline = pytester.path / "baseline.json"
    assert run_cli("check", str(capture), "--write-baseline", str(baseline)).returncode == 0
    assert json.loads(baseline.read_text())["entries"]
    return capture, baseline


def test_baseline_known_findings_pass_and_a_new_one_fails(pytester: pytest.Pytester) -> None:
    _, baseline = _adopt(pytester)
    again = pytester.path / "again.ndjson"
    again.write_text(recording(seed=2))
    passed = pytester.runpytest_subprocess("--telephony-conformance", str(again), "--telephony-baseline", str(baseline))
    passed.assert_outcomes(passed=N_RULES + 1)  # and the baseline's C113 item: no entry is stale
    with_new = pytester.path / "new.ndjson"
    with_new.write_text(recording(seed=3) + '{"action":"dialin-ready","callClientId":"c","provider":"daily"}\n')
    failed = pytester.runpytest_subprocess(
        "--telephony-conformance", str(with_new), "--telephony-baseline", str(baseline)
    )
    failed.assert_outcomes(passed=N_RULES, failed=1)
    failed.stdout.fnmatch_lines(["*9 findings of S201*", "*new.ndjson:*: S201 error: dialin-ready is missing*"])
    assert "dialin-ready is missing required field \"sipEndpoint\"" in failed.stdout.str()


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_stale_baseline_entry_fails_the_session(pytester: pytest.Pytester, workers: list[str]) -> None:
    _, baseline = _adopt(pytester)
    # Two captures, each with some of the defects: together they hold all but one.
    first, second = pytester.path / "first.ndjson", pytester.path / "second.ndjson"
    first.write_text(recording(seed=4, fixed=frozenset({"truncated-line", "typo-action"})))
    second.write_text(recording(seed=5, fixed=frozenset({"truncated-line", "bad-destination"})))
    result = pytester.runpytest_subprocess(
        "--telephony-conformance", str(first), "--telephony-conformance", str(second),
        "--telephony-baseline", str(baseline), *workers,
    )
    # The baseline's own item fails, so JUnit XML and the short summary show it too.
    result.assert_outcomes(passed=2 * N_RULES, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*1 entry of C113 stale-baseline-entry*",
            "*Stale baseline entries (1 entry):*",
            "*baseline.json:*: C113 error: known finding C101*",
            "FAILED *baseline.json::C113 stale-baseline-entry*",
        ]
    )
    fixed_too = pytester.runpytest_subprocess(
        "--telephony-conformance", str(first), "--telephony-conformance", str(second),
        "--telephony-baseline", str(baseline), "--telephony-severity", "C113=warning", *workers,
    )
    assert fixed_too.ret == 0


def test_known_errors_are_not_listed_as_warnings(pytester: pytest.Pytester) -> None:
    capture = pytester.path / "defective.ndjson"
    capture.write_text((REPO / "examples" / "defective.ndjson").read_text())  # S201, S203, L303, L302
    baseline = pytester.path / "b.json"
    assert run_cli("check", str(capture), "--write-baseline", str(baseline)).returncode == 0
    args = ["--telephony-conformance", str(capture), "--telephony-baseline", str(baseline)]
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == 0
    out = result.stdout.str()
    warnings = out.split("Warnings (doubtful", 1)[1] if "Warnings (doubtful" in out else ""
    assert " error: " not in warnings, out
