"""The pytest plugin, through pytester: ``pytest --telephony-conformance PATH``."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.rules import RULES

REPO = Path(__file__).resolve().parent.parent.parent
SAMPLE = REPO / "examples" / "captured.ndjson"
DATA = REPO / "tests" / "data"
# Items per capture: S205 only under strict, C112 only with required actions, C113 is the baseline's.
N_RULES = len(RULES) - 3
GOOD = '{"action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:r@sip.daily.co","provider":"daily"}'
NO_ENDPOINT = '{"action":"dialin-ready","callClientId":"c","provider":"daily"}'  # S201


@pytest.fixture
def sample(pytester: pytest.Pytester) -> Path:
    path = pytester.path / "captured.ndjson"
    path.write_bytes(SAMPLE.read_bytes())
    return path


@pytest.fixture
def defective(pytester: pytest.Pytester) -> Path:
    """Errors: S201 at lines 2 and 4, L303 at line 5 (a second stop), C101 at line 6; a
    warning: L302 at line 3 (a stop without a start)."""
    path = pytester.path / "defective.ndjson"
    stopped = '{"action":"dialin-stopped","callClientId":"c","sessionId":"s","provider":"daily"}'
    path.write_text("\n".join([GOOD, NO_ENDPOINT, stopped, NO_ENDPOINT, stopped, "{oops"]) + "\n")
    return path


def _located(output: str) -> set[tuple[int, str]]:
    """``(line, rule)`` of every ``file:line: RULE error: message`` line in pytest's output."""
    found = re.findall(r"defective\.ndjson:([0-9]+): ([CSL][0-9]{3}) error: ", output)
    return {(int(line), rule) for line, rule in found}


def test_sample_passes_with_no_conftest_and_no_tests(pytester: pytest.Pytester, sample: Path) -> None:
    assert not list(pytester.path.glob("conftest.py")) and not list(pytester.path.glob("test_*.py"))
    result = pytester.runpytest_subprocess("--telephony-conformance", str(sample))
    result.assert_outcomes(passed=N_RULES)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*telephony-conformance: schemas *, 1 capture"])


def test_defective_capture_fails_showing_file_line_rule(pytester: pytest.Pytester, defective: Path) -> None:
    result = pytester.runpytest_subprocess("--telephony-conformance", str(defective))
    result.assert_outcomes(passed=N_RULES - 3, failed=3)
    assert result.ret == 1
    out = result.stdout.str()
    assert _located(out) == {(2, "S201"), (4, "S201"), (5, "L303"), (6, "C101")}
    result.stdout.fnmatch_lines(["*FAILED*defective.ndjson*S201*"])
    assert "Traceback" not in out


def test_terminal_summary_counts(pytester: pytest.Pytester, defective: Path) -> None:
    result = pytester.runpytest("--telephony-conformance", str(defective))
    result.stdout.fnmatch_lines(
        [
            "*telephony-conformance*",
            "Checked 1 capture: 6 lines = 5 events + 0 blank + 1 not an event. "
            "Events: 5 telephony, 0 other (not checked); 1 session.",
            "Findings: 4 errors (C101 invalid-json 1, S201 missing-required-field 2, L303 event-after-end 1), "
            "1 warning (L302 stopped-without-start 1).",
            "Warnings (doubtful, not violations; --telephony-strict makes them fail):",
            "*defective.ndjson:3: L302 warning: dialin-stopped for session s, which had no earlier event*",
        ]
    )


def test_long_lists_are_capped(pytester: pytest.Pytester) -> None:
    path = pytester.path / "many.ndjson"
    path.write_text("\n".join([NO_ENDPOINT] * 30) + "\n")
    result = pytester.runpytest("--telephony-conformance", str(path))
    out = result.stdout.str()
    shown = re.findall(r"many\.ndjson:([0-9]+): S201 error: ", out)
    assert len(shown) == 20
    assert "... and 10 more" in out
    result = pytester.runpytest("--telephony-conformance", str(path), "--telephony-max-findings", "3")
    assert len(re.findall(r"many\.ndjson:[0-9]+: S201 error: ", result.stdout.str())) == 3
    assert "... and 27 more" in result.stdout.str()


def test_ini_option_lists_default_captures(pytester: pytest.Pytester, defective: Path) -> None:
    pytester.makeini("[pytest]\ntelephony_conformance_captures = defective.ndjson\n")
    pytester.makepyfile(test_own="def test_own():\n    assert True\n")
    result = pytester.runpytest()
    # Captures from the ini file are checked beside the project's own tests.
    result.assert_outcomes(passed=N_RULES - 3 + 1, failed=3)
    assert _located(result.stdout.str()) == {(2, "S201"), (4, "S201"), (5, "L303"), (6, "C101")}


def test_command_line_capture_skips_project_tests_unless_named(pytester: pytest.Pytester, sample: Path) -> None:
    pytester.makepyfile(test_own="def test_own():\n    assert False\n")
    pytester.runpytest("--telephony-conformance", str(sample)).assert_outcomes(passed=N_RULES)
    result = pytester.runpytest("--telephony-conformance", str(sample), "test_own.py")
    result.assert_outcomes(passed=N_RULES, failed=1)


def test_a_folder_of_captures(pytester: pytest.Pytester, defective: Path, sample: Path) -> None:
    result = pytester.runpytest("--telephony-conformance", str(pytester.path))
    result.assert_outcomes(passed=2 * N_RULES - 3, failed=3)


def test_repeatable_option(pytester: pytest.Pytester, defective: Path, sample: Path) -> None:
    result = pytester.runpytest("--telephony-conformance", str(sample), "--telephony-conformance", str(defective))
    result.assert_outcomes(passed=2 * N_RULES - 3, failed=3)
    result.stdout.fnmatch_lines(["Checked 2 captures: *"])


def test_strict_makes_warnings_fail(pytester: pytest.Pytester) -> None:
    path = pytester.path / "answered.ndjson"
    path.write_bytes((DATA / "invalid" / "L301-answered-without-connected@1+4.ndjson").read_bytes())
    result = pytester.runpytest("--telephony-conformance", str(path))
    result.assert_outcomes(passed=N_RULES)
    result.stdout.fnmatch_lines(["*--telephony-strict makes them fail*"])
    result = pytester.runpytest("--telephony-conformance", str(path), "--telephony-strict")
    result.assert_outcomes(passed=N_RULES, failed=1)  # with S205's item, which --telephony-strict adds
    assert re.findall(r"answered\.ndjson:([0-9]+): L301 warning", result.stdout.str()) == ["1", "4"]


def test_partial(pytester: pytest.Pytester, defective: Path) -> None:
    result = pytester.runpytest("--telephony-conformance", str(defective))
    result.stdout.fnmatch_lines(["Findings: 4 errors (*), 1 warning (L302 stopped-without-start 1)."])
    result = pytester.runpytest("--telephony-conformance", str(defective), "--telephony-partial")
    result.assert_outcomes(passed=N_RULES - 1 - 3, failed=3)  # no L302 item: it can find nothing under partial
    result.stdout.fnmatch_lines(["Findings: 4 errors (*), 0 warnings."])  # the stop without a start is not flagged


def test_select_and_ignore(pytester: pytest.Pytester, defective: Path) -> None:
    result = pytester.runpytest("--telephony-conformance", str(defective), "--telephony-select", "S2,L303")
    n_s = sum(1 for r in RULES if r.startswith("S2"))
    result.assert_outcomes(passed=n_s - 1 + 1 - 2, failed=2)  # S205 has no item without --telephony-strict
    result = pytester.runpytest("--telephony-conformance", str(defective), "--telephony-ignore", "s201,C")
    result.assert_outcomes(passed=len(RULES) - sum(1 for r in RULES if r[0] == "C") - 2 - 1, failed=1)


def test_exitfirst(pytester: pytest.Pytester, defective: Path) -> None:
    result = pytester.runpytest("--telephony-conformance", str(defective), "-x")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1
    assert outcomes.get("passed", 0) < N_RULES - 3


def test_keyword_selects_a_rule(pytester: pytest.Pytester, defective: Path) -> None:
    result = pytester.runpytest("--telephony-conformance", str(defective), "-k", "S201")
    result.assert_outcomes(failed=1, deselected=N_RULES - 1)
    assert _located(result.stdout.str()) == {(2, "S201"), (4, "S201")}
    result = pytester.runpytest("--telephony-conformance", str(defective), "-k", "missing-required-field or C102")
    result.assert_outcomes(failed=1, passed=1, deselected=N_RULES - 2)


def test_quiet(pytester: pytest.Pytester, defective: Path) -> None:
    result = pytester.runpytest("--telephony-conformance", str(defective), "-q")
    result.assert_outcomes(passed=N_RULES - 3, failed=3)
    assert _located(result.stdout.str()) == {(2, "S201"), (4, "S201"), (5, "L303"), (6, "C101")}


def test_junitxml_failures_name_the_rule(pytester: pytest.Pytester, defective: Path) -> None:
    xml = pytester.path / "report.xml"
    pytester.runpytest("--telephony-conformance", str(defective), f"--junitxml={xml}")
    root = ET.parse(xml).getroot()
    cases = root.iter("testcase")
    failed = {}
    total = 0
    for case in cases:
        total += 1
        failure = case.find("failure")
        if failure is not None:
            failed[case.get("name")] = (failure.get("message") or "") + (failure.text or "")
    assert total == N_RULES
    assert {name.split()[0] for name in failed} == {"S201", "L303", "C101"}
    assert "defective.ndjson:2: S201 error" in failed["S201 missing-required-field"]
    assert "defective.ndjson:5: L303 error" in failed["L303 event-after-end"]


def test_xdist(pytester: pytest.Pytester, defective: Path, sample: Path) -> None:
    pytest.importorskip("xdist")
    result = pytester.runpytest_subprocess(
        "--telephony-conformance", str(defective), "--telephony-conformance", str(sample), "-n", "2"
    )
    result.assert_outcomes(passed=2 * N_RULES - 3, failed=3)
    out = result.stdout.str()
    assert _located(out) == {(2, "S201"), (4, "S201"), (5, "L303"), (6, "C101")}
    result.stdout.fnmatch_lines(
        ["Checked 2 captures: 25 lines = *; 6 sessions.", "Findings: 4 errors (*), 1 warning (*)."]
    )


def test_missing_capture_is_a_usage_error(pytester: pytest.Pytester) -> None:
    missing = pytester.path / "nowhere.ndjson"
    result = pytester.runpytest_subprocess("--telephony-conformance", str(missing))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert str(missing) in err
    assert "Traceback" not in err + result.stdout.str()


def test_bad_rule_id_is_a_usage_error(pytester: pytest.Pytester, sample: Path) -> None:
    result = pytester.runpytest("--telephony-conformance", str(sample), "--telephony-select", "Z9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "'Z9'" in result.stderr.str()


def test_empty_folder_is_a_usage_error(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("empty")
    result = pytester.runpytest("--telephony-conformance", str(folder))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "holds no captures" in result.stderr.str()


def test_capture_with_no_telephony_event_fails(pytester: pytest.Pytester) -> None:
    path = pytester.path / "other.ndjson"
    path.write_text('{"action":"participant-joined"}\n')
    result = pytester.runpytest("--telephony-conformance", str(path))
    result.assert_outcomes(passed=N_RULES - 1, failed=1)
    result.stdout.fnmatch_lines(["*other.ndjson: C111 error: no telephony event*"])
    result = pytester.runpytest("--telephony-conformance", str(path), "--telephony-allow-empty")
    result.assert_outcomes(passed=N_RULES)


def test_no_capture_no_plugin_items(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_own="def test_own():\n    assert True\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "telephony-conformance: schemas" not in result.stdout.str()
    assert "capture(s)" not in result.stdout.str()


def test_summary_is_per_run_not_per_process(pytester: pytest.Pytester, sample: Path) -> None:
    pytester.runpytest("--telephony-conformance", str(sample)).assert_outcomes(passed=N_RULES)
    # A second run in the same process that checks nothing must not report the first run's counts.
    result = pytester.runpytest("--telephony-conformance", str(sample), "-k", "no-such-rule")
    result.assert_outcomes(deselected=N_RULES)
    assert "1 capture(s):" not in result.stdout.str()


@pytest.mark.parametrize(
    ("error", "said"), [("RuntimeError('a bug')", "internal error"), ("MemoryError()", "out of memory")]
)
def test_an_internal_error_is_one_line_naming_it(
    pytester: pytest.Pytester, sample: Path, error: str, said: str
) -> None:
    pytester.makeconftest(
        "import conformance.pytest_plugin as plugin\n"
        "def broken(*args, **kwargs):\n"
        f"    raise {error}\n"
        "plugin._check = broken\n"
    )
    result = pytester.runpytest_subprocess("--telephony-conformance", str(sample))
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    out = result.stdout.str() + result.stderr.str()
    assert f"telephony-conformance: {said}" in out
    assert "Traceback" not in out and "passed" not in out


def test_a_capture_that_cannot_be_read_fails_once_and_its_other_rules_are_not_checked(
    pytester: pytest.Pytester, sample: Path
) -> None:
    (pytester.path / "gone.ndjson").symlink_to(pytester.path / "nowhere")  # listed, cannot be opened
    result = pytester.runpytest("--telephony-conformance", str(pytester.path), "-rfs")
    result.assert_outcomes(passed=N_RULES, failed=1, skipped=N_RULES - 1)
    result.stdout.fnmatch_lines(["FAILED *gone.ndjson::C110 unreadable*"])
    result.stdout.fnmatch_lines(["SKIPPED * not checked: *gone.ndjson: cannot open*"])


def test_a_capture_name_with_brackets(pytester: pytest.Pytester) -> None:
    # pytest reads [..] in a node id as parameters; the name is percent-encoded there.
    path = pytester.path / "calls[1].ndjson"
    path.write_bytes(SAMPLE.read_bytes() + NO_ENDPOINT.encode() + b"\n")
    result = pytester.runpytest("--telephony-conformance", str(path))
    result.assert_outcomes(passed=N_RULES - 1, failed=1)
    out = result.stdout.str()
    assert "calls%5B1%5D.ndjson::S201" in out and "calls[1].ndjson:20: S201 error" in out
