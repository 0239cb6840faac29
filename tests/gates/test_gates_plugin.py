"""Severities, --telephony-fail-on and --telephony-require-actions, through the pytest plugin."""

from __future__ import annotations

from pathlib import Path

import pytest
from _gates import SAMPLE

from conformance.rules import RULES

N_RULES = len(RULES)


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
    result.assert_outcomes(passed=N_RULES - 1, failed=1)
    result.stdout.fnmatch_lines(["*C112 required-action-missing*", "*dialout-answered never appears*"])


def test_bad_severity_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--telephony-conformance", str(SAMPLE), "--telephony-severity", "L302=loud"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*telephony-conformance: severity of L302: 'loud' is not one of error, warning, off*"])
