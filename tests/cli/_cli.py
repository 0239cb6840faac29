"""Running the CLI as a real subprocess, and reading its text report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

#: A rule's group header in the text report: ``path: S201 missing-required-field (2 errors): …``.
GROUP = re.compile(
    r"^(?P<path>.+?): (?P<rule>[CSL][0-9]{3}) [a-z0-9-]+ \((?P<count>[0-9,]+) (?:errors?|warnings?)\): .+$"
)
FINDING = re.compile(r"^(?P<path>.+?):(?P<line>[0-9]+): (?P<rule>[CSL][0-9]{3}) (?P<severity>error|warning): .+$")


def cli(
    *args: str, input: bytes | None = None, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", *args],
        input=input,
        capture_output=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def findings_of(stdout: str) -> list[tuple[str, int, str, str]]:
    return [
        (m["path"], int(m["line"]), m["rule"], m["severity"])
        for m in map(FINDING.match, stdout.splitlines())
        if m
    ]
