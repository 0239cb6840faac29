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


def on_a_terminal(*args: str, env: dict[str, str] | None = None, stdout_too: bool = True) -> tuple[int, str, str]:
    """Run the CLI with stderr (and stdout, unless ``stdout_too`` is false) on a pseudo-terminal,
    as in a person's shell; returns the exit code, what the terminal got, and the piped stdout."""
    import pty
    import select

    leader, follower = pty.openpty()
    shown = b""
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", *args],
            stdout=follower if stdout_too else subprocess.PIPE,
            stderr=follower,
            env={**os.environ, "TERM": "xterm", "COLUMNS": "100", **(env or {})},
        )
        os.close(follower)
        piped = b""
        if not stdout_too:
            piped, _ = proc.communicate(timeout=120)
        while True:
            if select.select([leader], [], [], 0.2)[0]:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal closed: the program ended
                    break
                if not chunk:
                    break
                shown += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=120)
    finally:
        os.close(leader)
    return proc.returncode, shown.decode("utf-8", "replace"), piped.decode()
