"""[tool.telephony-conformance] in pyproject.toml: read by the CLI and the plugin, found from the
current folder up to the repository's root, overridden by flags; an unknown key is an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _gates import GOOD, NO_ENDPOINT, assert_usage_error, run_cli

from conformance.rules import RULES

# Items per capture: S205 only under strict, C112 only with required actions, C113 is the baseline's.
N_RULES = len(RULES) - 3


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with captures in captures/ and a sub-folder to run from."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "captures").mkdir()
    (root / "captures" / "calls.ndjson").write_text(GOOD + "\n" + NO_ENDPOINT + "\n")
    (root / "sub" / "deeper").mkdir(parents=True)
    return root


def _configure(root: Path, table: str) -> None:
    (root / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.telephony-conformance]\n{table}\n')


def test_the_cli_reads_captures_options_and_reports_from_the_nearest_pyproject(project: Path) -> None:
    _configure(
        project,
        'captures = ["captures/"]\nseverity = { S201 = "warning" }\nfail-on = "warning"\n'
        'reports = { sarif = "out/results.sarif" }\nrequire-actions = ["dialin-ready"]',
    )
    (project / "out").mkdir()
    done = run_cli("check", cwd=project / "sub" / "deeper")  # no capture named: the configured ones
    assert done.returncode == 1  # S201 is a warning now, and warnings fail
    assert "captures/calls.ndjson:2: S201 warning:" in done.stdout
    sarif = json.loads((project / "out" / "results.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["S201"]


def test_flags_override_the_configuration(project: Path) -> None:
    _configure(project, 'captures = ["captures/"]\nfail-on = "never"\nseverity = { S201 = "warning" }')
    assert run_cli("check", cwd=project).returncode == 0
    assert run_cli("check", "--fail-on", "warning", cwd=project).returncode == 1
    overridden = run_cli("check", "--severity", "S201=error", "--format", "json", "--fail-on", "error", cwd=project)
    assert overridden.returncode == 1
    assert json.loads(overridden.stdout)["options"]["severity"] == {"S201": "error"}
    other = project / "other.ndjson"
    other.write_text(GOOD + "\n")
    assert run_cli("check", str(other), cwd=project).returncode == 0  # a named capture, not the configured ones


def test_the_search_stops_at_the_repository_root(project: Path, tmp_path: Path) -> None:
    _configure(tmp_path, 'fail-on = "never"')  # above the repository: not read
    capture = project / "captures" / "calls.ndjson"
    assert run_cli("check", str(capture), cwd=project / "sub").returncode == 1
    _configure(project / "sub", 'fail-on = "never"')  # nearer than the root: read
    assert run_cli("check", str(capture), cwd=project / "sub" / "deeper").returncode == 0


def test_a_pyproject_without_the_table_is_passed_over(project: Path) -> None:
    _configure(project, 'fail-on = "never"')
    (project / "sub" / "pyproject.toml").write_text('[project]\nname = "sub"\n')
    assert run_cli("check", "captures/calls.ndjson", cwd=project).returncode == 0
    assert run_cli("check", "../captures/calls.ndjson", cwd=project / "sub").returncode == 0


@pytest.mark.parametrize(
    ("table", "needles"),
    [
        ("stritc = true", ["unknown key 'stritc'", "did you mean 'strict'?", "pyproject.toml"]),
        ("fail_on = 'never'", ["unknown key 'fail_on'", "did you mean 'fail-on'?"]),
        ('strict = "yes"', ["strict must be true or false"]),
        ("severity = { S201 = 1 }", ["severity must be a table"]),
        ('fail-on = "sometimes"', ["fail-on", "sometimes"]),
        ('severity = { S999 = "error" }', ["unknown rule 'S999'"]),
        ("captures = [", ["not valid TOML"]),
    ],
)
def test_a_bad_configuration_is_a_one_line_error(project: Path, table: str, needles: list[str]) -> None:
    _configure(project, table)
    assert_usage_error(run_cli("check", "captures/calls.ndjson", cwd=project), *needles)


def test_no_capture_anywhere_is_a_usage_error(project: Path) -> None:
    _configure(project, "strict = false")
    assert_usage_error(run_cli("check", cwd=project), "no capture given")


def test_the_plugin_reads_the_same_table(pytester: pytest.Pytester) -> None:
    (pytester.path / ".git").mkdir()
    capture = pytester.path / "calls.ndjson"
    capture.write_text(GOOD + "\n" + NO_ENDPOINT + "\n")
    _configure(pytester.path, 'captures = ["calls.ndjson"]\nseverity = { S201 = "warning" }')
    # A bare pytest checks the configured captures; the severity applies.
    passed = pytester.runpytest_subprocess("-p", "no:randomly")
    passed.assert_outcomes(passed=N_RULES)
    failing = pytester.runpytest_subprocess("--telephony-fail-on", "warning")  # a flag overrides the table
    failing.assert_outcomes(passed=N_RULES - 1, failed=1)
    _configure(pytester.path, 'captures = ["calls.ndjson"]\nbogus = 1')
    broken = pytester.runpytest_subprocess()
    assert broken.ret == pytest.ExitCode.USAGE_ERROR
    broken.stderr.fnmatch_lines(["*telephony-conformance: *pyproject.toml: *unknown key 'bogus'*"])
