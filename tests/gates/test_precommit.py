"""The pre-commit hooks (.pre-commit-hooks.yaml): a valid manifest, and each hook, run as
pre-commit runs it (its entry with the matching files as arguments), passes good files and
fails bad ones with a line naming them."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _gates import GOOD, NO_ENDPOINT, REPO

clientlib = pytest.importorskip("pre_commit.clientlib", reason="pre-commit (the test extra) reads the manifest")


def _hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in clientlib.load_manifest(str(REPO / ".pre-commit-hooks.yaml"))}


def _run(hook: dict[str, Any], root: Path) -> subprocess.CompletedProcess[str]:
    """The hook as pre-commit runs it: its entry, with the files of ``root`` its pattern matches."""
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    matched = [f for f in files if re.search(hook["files"], f)]
    assert matched, "the hook matches no file"
    program, *args = shlex.split(hook["entry"])
    assert program == "telephony-conformance"  # the console script; run from this interpreter here
    command = [sys.executable, "-m", "conformance.cli", *args, *matched]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def test_the_manifest_is_valid_and_names_two_hooks() -> None:
    hooks = _hooks()
    assert set(hooks) == {"telephony-conformance", "telephony-conformance-schemas"}
    assert all(hook["language"] == "python" for hook in hooks.values())


def test_the_capture_hook(tmp_path: Path) -> None:
    hook = _hooks()["telephony-conformance"]
    (tmp_path / "captures").mkdir()
    (tmp_path / "captures" / "good.ndjson").write_text(GOOD + "\n")
    (tmp_path / "notes.txt").write_text("not a capture")
    assert _run(hook, tmp_path).returncode == 0
    (tmp_path / "captures" / "bad.jsonl").write_text(NO_ENDPOINT + "\n")
    failed = _run(hook, tmp_path)
    assert failed.returncode == 1
    assert "captures/bad.jsonl:1: S201 error:" in failed.stdout


def test_the_schema_hook_passes_this_repositorys_schemas_and_fails_a_broken_one(tmp_path: Path) -> None:
    hook = _hooks()["telephony-conformance-schemas"]
    done = _run(hook, REPO)
    assert done.returncode == 0, done.stdout
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "extended.schema.json").write_text(
        '{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "objekt"}'
    )
    (tmp_path / "schemas" / "old.schema.json").write_text('{"$schema": "http://json-schema.org/draft-07/schema#"}')
    (tmp_path / "schemas" / "broken.json").write_text("{")
    (tmp_path / "schemas" / "vectors").mkdir()
    (tmp_path / "schemas" / "vectors" / "cases.json").write_text("[]")  # not a schema: not matched
    failed = _run(hook, tmp_path)
    assert failed.returncode == 1
    lines = failed.stdout.splitlines()
    assert len(lines) == 3
    assert "schemas/extended.schema.json: not a valid draft 2020-12 schema at /type" in failed.stdout
    assert "schemas/old.schema.json: declares $schema" in failed.stdout
    assert "schemas/broken.json: not JSON" in failed.stdout


def test_the_capture_hook_on_the_captures_a_commit_changed_leaves_stale_entries_to_ci(tmp_path: Path) -> None:
    # The baseline knows a defect of a capture the commit did not touch: not stale for the hook.
    hook = _hooks()["telephony-conformance"]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "known.ndjson").write_text(NO_ENDPOINT + "\n")
    cli = [sys.executable, "-m", "conformance.cli", "check"]
    written = subprocess.run([*cli, "old/", "--write-baseline", "b.json"], cwd=tmp_path, capture_output=True, text=True)
    assert written.returncode == 0, written.stdout + written.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.telephony-conformance]\nbaseline = "b.json"\n')
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "good.ndjson").write_text(GOOD + "\n")
    (tmp_path / "pyproject.toml").rename(changed / "pyproject.toml")
    (tmp_path / "b.json").rename(changed / "b.json")
    done = _run(hook, changed)
    assert done.returncode == 0, done.stdout + done.stderr
    everything = subprocess.run([*cli, "."], cwd=changed, capture_output=True, text=True)
    assert everything.returncode == 1 and "C113" in everything.stdout  # where every capture is checked
