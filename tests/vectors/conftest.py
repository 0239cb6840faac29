"""Session fixtures for the Node-side vector checks: ajv installed once, run once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from _npm import NodeUnavailable, install, node_env, require_node

from conformance.bundle import bundle
from conformance.schemas import schema_dir

AJV_DIR = Path(__file__).parent / "ajv"


@pytest.fixture(scope="session")
def ajv_prefix() -> Path:
    """A directory with ajv in ``node_modules``; skips the test when Node or npm is unavailable."""
    try:
        return install(AJV_DIR / "package.json")
    except NodeUnavailable as exc:
        pytest.skip(f"ajv check skipped: {exc}")


@pytest.fixture(scope="session")
def ajv_verdicts(ajv_prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """ajv's verdicts on every vector, against the schema files and against the bundle alone."""
    bundle_path = tmp_path_factory.mktemp("bundle") / "telephony-event.bundle.json"
    bundle_path.write_text(json.dumps(bundle()), encoding="utf-8")
    done = subprocess.run(
        [require_node(), str(AJV_DIR / "run.cjs"), str(schema_dir()), str(bundle_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=node_env(ajv_prefix),
    )
    assert done.returncode == 0, f"run.cjs failed (ajv rejected a schema?):\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result
