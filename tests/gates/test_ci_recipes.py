"""docs/ci.md's recipes work as written: the configuration example is read as it is, and the
check of each CI recipe, run in a repository with captures and a baseline, writes the files
the recipe then uploads."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from _gates import GOOD, REPO, run_cli

from conformance.config import load

DOC = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.S)


def test_the_configuration_example_is_valid(tmp_path: Path) -> None:
    (toml,) = [block for block in _blocks("toml") if "[tool.telephony-conformance]" in block]
    (tmp_path / "pyproject.toml").write_text(toml)
    config = load(tmp_path / "pyproject.toml")
    assert config.get("fail_on") == "error" and config.get("severity") == ["L301=error", "S205=off"]


def _check_command(steps: list[dict[str, Any]] | list[str]) -> list[str]:
    for step in steps:
        text = step.get("run", "") if isinstance(step, dict) else step
        if "telephony-conformance check" in text:
            return shlex.split(text.replace("\n", " "))
    raise AssertionError("the recipe runs no check")


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "captures").mkdir()
    (tmp_path / "captures" / "calls.ndjson").write_text(GOOD + "\n")
    assert run_cli("check", "captures/", "--write-baseline", "telephony-baseline.json", cwd=tmp_path).returncode == 0
    return tmp_path


def test_the_github_actions_recipe(repository: Path) -> None:
    (workflow,) = [yaml.safe_load(block) for block in _blocks("yaml") if "upload-sarif" in block]
    steps = workflow["jobs"]["captures"]["steps"]
    command = _check_command(steps)
    summary = repository / "summary.md"
    done = run_cli(*command[1:], cwd=repository, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 0, done.stdout + done.stderr
    uploads = [step for step in steps if step.get("if") == "always()"]
    assert len(uploads) == 2
    sarif = next(step for step in uploads if "upload-sarif" in step["uses"])["with"]["sarif_file"]
    artifact = next(step for step in uploads if "upload-artifact" in step["uses"])["with"]["path"]
    assert (repository / sarif).is_file() and (repository / artifact).is_file()
    assert "## telephony-conformance" in summary.read_text()


def test_the_gitlab_recipe(repository: Path) -> None:
    (pipeline,) = [yaml.safe_load(block) for block in _blocks("yaml") if "codequality" in block]
    job = pipeline["telephony-conformance"]
    command = _check_command(job["script"])
    done = run_cli(*command[1:], cwd=repository)
    assert done.returncode == 0, done.stdout + done.stderr
    assert job["artifacts"]["when"] == "always"
    for path in [*job["artifacts"]["reports"].values(), *job["artifacts"]["paths"]]:
        assert (repository / path).is_file(), path
