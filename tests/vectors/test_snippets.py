"""The snippets of ``docs/other-languages.md`` run and agree with the vectors.

Each snippet reads events (one per line) and prints ``ok`` or ``invalid …`` per line; it is
fed every vector of ``telephony-event.json`` (the union schema the snippets load) and must
give each vector's verdict. A snippet whose toolchain is missing, or whose packages cannot
be fetched, is skipped with the reason; builds are bounded by timeouts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from _npm import node_env, require_node
from _vectors import VECTORS

from conformance.bundle import BUNDLE_NAME, bundle
from conformance.schemas import schema_dir, schema_version

DOC = Path(__file__).resolve().parents[2] / "docs" / "other-languages.md"
UNION_VECTORS = [v for v in VECTORS if v.file == "telephony-event.json"]
FETCH_TIMEOUT = 120
BUILD_TIMEOUT = 600


def snippet(language: str) -> str:
    """The one fenced block of ``language`` in the doc."""
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", DOC.read_text(encoding="utf-8"), flags=re.S | re.M)
    assert len(blocks) == 1, f"expected one ```{language} block in {DOC.name}, found {len(blocks)}"
    return str(blocks[0])


def _project(tmp_path: Path) -> Path:
    """A working directory laid out as the doc says: schemas/ copied in, the bundle beside it."""
    shutil.copytree(schema_dir(), tmp_path / "schemas", ignore=shutil.ignore_patterns("vectors", "*.md"))
    (tmp_path / BUNDLE_NAME).write_text(json.dumps(bundle()), encoding="utf-8")
    return tmp_path


def _events() -> str:
    return "".join(json.dumps(v.data) + "\n" for v in UNION_VECTORS)


def _telephony(event: object) -> bool:
    """The JavaScript snippet's rule for a line it checks (others it skips, as the checker does)."""
    action = event.get("action") if isinstance(event, dict) else None
    return isinstance(action, str) and re.match(r"dial(in|out)", action) is not None


def _check_verdicts(output: str, skips: bool = False) -> None:
    lines = output.splitlines()
    assert len(lines) == len(UNION_VECTORS), output[-2000:]
    wrong = []
    for v, line in zip(UNION_VECTORS, lines, strict=True):
        expected = "skip" if skips and not _telephony(v.data) else "ok" if v.valid else "invalid"
        if line.split(" ", 1)[0] != expected:
            wrong.append(f"{v.description}: printed {line!r}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def _run(cmd: list[str], cwd: Path, timeout: int, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def test_snippets_name_the_current_schema_version() -> None:
    ids = re.findall(r"https://telephony-conformance\.example/schemas/([^/]+)/", DOC.read_text(encoding="utf-8"))
    assert ids and set(ids) <= {schema_version(), "<version>"}, ids


def test_javascript_snippet(ajv_prefix: Path, tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "validate.cjs").write_text(snippet("javascript"), encoding="utf-8")
    done = _run([require_node(), "validate.cjs"], project, 60, input=_events(), env=node_env(ajv_prefix))
    assert done.returncode == 0, done.stderr
    _check_verdicts(done.stdout, skips=True)


def test_javascript_snippet_passes_the_sample_capture(ajv_prefix: Path, tmp_path: Path) -> None:
    """The sample capture's non-telephony events are skipped, not called invalid."""
    project = _project(tmp_path)
    (project / "validate.cjs").write_text(snippet("javascript"), encoding="utf-8")
    sample = (Path(__file__).resolve().parents[2] / "examples" / "captured.ndjson").read_text(encoding="utf-8")
    done = _run([require_node(), "validate.cjs"], project, 60, input=sample, env=node_env(ajv_prefix))
    assert done.returncode == 0, done.stderr
    verdicts = done.stdout.split()
    assert set(verdicts) == {"ok", "skip"} and verdicts.count("skip") == 4, done.stdout


def test_go_snippet(tmp_path: Path) -> None:
    go = shutil.which("go")
    if go is None:
        pytest.skip("Go snippet skipped: Go is not installed (no `go` on PATH)")
    project = _project(tmp_path)
    (project / "main.go").write_text(snippet("go"), encoding="utf-8")
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    _run([go, "mod", "init", "example.com/telephony"], project, 60, env=env)
    try:
        got = _run([go, "get", "github.com/santhosh-tekuri/jsonschema/v6"], project, FETCH_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        pytest.skip(f"Go snippet skipped: the Go module proxy did not answer in {FETCH_TIMEOUT}s")
    if got.returncode != 0:
        pytest.skip(f"Go snippet skipped: cannot fetch the module: {got.stderr.strip()[-300:]}")
    done = _run([go, "run", "."], project, BUILD_TIMEOUT, input=_events(), env=env)
    assert done.returncode == 0, done.stderr
    _check_verdicts(done.stdout)


def test_rust_snippet(tmp_path: Path) -> None:
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("Rust snippet skipped: cargo is not installed")
    project = _project(tmp_path)
    (project / "src").mkdir()
    (project / "src" / "main.rs").write_text(snippet("rust"), encoding="utf-8")
    manifest = '[package]\nname = "telephony-snippet"\nversion = "0.1.0"\nedition = "2021"\n\n' + snippet("toml")
    (project / "Cargo.toml").write_text(manifest, encoding="utf-8")
    try:
        # No retries: an unreachable crates.io should be a quick skip, not minutes of backoff.
        fetched = _run([cargo, "fetch"], project, FETCH_TIMEOUT, env={**os.environ, "CARGO_NET_RETRY": "0"})
    except subprocess.TimeoutExpired:
        pytest.skip(f"Rust snippet skipped: crates.io did not answer `cargo fetch` in {FETCH_TIMEOUT}s")
    if fetched.returncode != 0:
        pytest.skip(f"Rust snippet skipped: crates.io is unreachable (`cargo fetch`: {fetched.stderr.strip()[-300:]})")
    try:
        done = _run([cargo, "run", "--quiet", "--offline"], project, BUILD_TIMEOUT, input=_events())
    except subprocess.TimeoutExpired:
        pytest.skip(f"Rust snippet skipped: the build took over {BUILD_TIMEOUT}s")
    assert done.returncode == 0, done.stderr[-3000:]
    _check_verdicts(done.stdout)
