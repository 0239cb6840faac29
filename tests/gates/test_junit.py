"""The JUnit report, read back with a JUnit library (junitparser): one case per capture and
rule, classname and file the capture's path, capped failure text."""

from __future__ import annotations

from pathlib import Path

import junitparser
import pytest
from _gates import GOOD, NO_ENDPOINT, SAMPLE, run_cli

from conformance.findings import Finding, Severity
from conformance.options import Options
from conformance.rules import RULES


def junit_of(*args: str, tmp_path: Path, cwd: Path | None = None) -> junitparser.JUnitXml:
    out = tmp_path / "junit.xml"
    done = run_cli("check", *args, "--report", f"junit={out}", cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return junitparser.JUnitXml.fromfile(str(out))


def test_one_case_per_capture_and_rule(defective: Path, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    xml = junit_of(str(defective), str(SAMPLE), tmp_path=tmp_path, cwd=tmp_path)
    suites = list(xml)
    assert [suite.name for suite in suites] == ["defective.ndjson", str(SAMPLE)]
    for suite in suites:
        cases = list(suite)
        # A case per rule checked: not S205 (without --strict), C112 (no --require-actions), C113 (no baseline).
        checked = [rule for rule in RULES.values() if rule.id not in ("S205", "C112", "C113")]
        assert [case.name for case in cases] == [f"{rule.id} {rule.name}" for rule in checked]
        for case in cases:
            assert case.classname == suite.name
            assert case._elem.get("file") == suite.name
    failed = {case.name.split()[0]: case for case in suites[0] if not case.is_passed}
    assert set(failed) == {"S201", "C101"}
    (warned,) = [case for case in suites[0] if case.name.startswith("L302")]
    assert warned.is_passed and "defective.ndjson:5: L302 warning:" in warned.system_out
    (failure,) = failed["S201"].result
    assert isinstance(failure, junitparser.Failure)
    assert failure.message.startswith("2 finding(s) of S201 missing-required-field")
    first, second = failure.text.splitlines()
    assert first.startswith(f"{defective}:2: S201 error: dialin-ready is missing required field \"sipEndpoint\"")
    assert second.startswith(f"{defective}:4: S201 error:")
    assert all(case.is_passed for case in suites[1])
    assert xml.tests == 2 * (len(RULES) - 3) and xml.failures == 2


def test_failure_text_is_capped_with_the_count_of_the_rest(tmp_path: Path) -> None:
    capture = tmp_path / "many.ndjson"
    capture.write_text("\n".join([GOOD] + [NO_ENDPOINT] * 500) + "\n")
    xml = junit_of(str(capture), tmp_path=tmp_path)
    (case,) = [case for suite in xml for case in suite if case.name.startswith("S201")]
    text = case.result[0].text.splitlines()
    assert len(text) == 21
    assert text[-1].startswith("... and 480 more")


def test_findings_that_do_not_fail_go_to_system_out(warned: Path, tmp_path: Path) -> None:
    xml = junit_of(str(warned), tmp_path=tmp_path)
    (case,) = [case for suite in xml for case in suite if case.name.startswith("L301")]
    assert case.is_passed
    assert "L301 warning:" in case.system_out
    strict = junit_of(str(warned), "--strict", tmp_path=tmp_path)
    (case,) = [case for suite in strict for case in suite if case.name.startswith("L301")]
    assert not case.is_passed


def test_hostile_text_stays_well_formed_xml(tmp_path: Path) -> None:
    capture = tmp_path / "hostile.ndjson"
    hostile = '{"action":"dialin-ready","callClientId":"c","sipEndpoint":"<x>&\\u0000\\u001b]]>","provider":"daily"}'
    capture.write_text(GOOD + "\n" + hostile + "\n")
    xml = junit_of(str(capture), tmp_path=tmp_path)
    (case,) = [case for suite in xml for case in suite if not case.is_passed]
    assert case.name.startswith("S203")
    assert '"<x>&\\x00\\x1b]]>"' in case.result[0].text  # read back as it was written, escaped


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("fail_on", [None, "error", "warning", "never"])
def test_the_failing_severities_are_what_fails(strict: bool, fail_on: str | None) -> None:
    options = Options(strict=strict, fail_on=fail_on)
    for severity in Severity:
        for known in (None, "", "accepted"):
            finding = Finding(1, "S201", severity, "m", known=known)
            expected = options.fails(finding)
            assert (known is None and severity in options.failing_severities()) is expected
