"""Checking with worker processes when things go wrong, as in CI: a worker is killed (the
OOM killer), the user presses Ctrl-C, the CI job is cancelled (the main process is killed),
the file is rotated mid-check. Each must end promptly, with a finding or a one-line message,
never a hang, a traceback or orphaned processes.

Each scenario runs in its own Python process (a ``-c`` script or the CLI), because it
kills processes; every wait is bounded by a timeout, so a regression fails instead of
hanging the suite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses signals and /proc (Linux)")

EVENT = (
    b'{"action":"dialin-connected","callClientId":"c","sessionId":"%d","sipCallId":"x@sip","provider":"daily"}\n'
    b'{"action":"dialin-stopped","callClientId":"c","sessionId":"%d","provider":"daily"}\n'
)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 30 MB of valid sessions: large enough for several ranges per worker."""
    path = tmp_path_factory.mktemp("jobs") / "big.ndjson"
    with path.open("wb") as f:
        for start in range(0, 150_000, 1000):
            f.write(b"".join(EVENT % (n, n) for n in range(start, start + 1000)))
    return path


def _run_script(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=timeout)


# A worker that kills itself (SIGKILL, as the OOM killer does) on its second range. The
# function is looked up in conformance.check.parallel when each range is submitted, and the fork
# start method (a one-thread process) hands the patched module to the workers.
KILLED_WORKER = """
import json, os, signal, sys
from conformance.check import CaptureSummary, check_file, parallel
from conformance.options import Options

real = parallel._check_chunk_to_file

def dying(path, start, end, *rest):
    if start > 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(path, start, end, *rest)

parallel._check_chunk_to_file = dying
summary = CaptureSummary(sys.argv[1])
findings = list(check_file(sys.argv[1], summary, Options(jobs=2)))
print(json.dumps([[f.line, f.rule, f.message] for f in findings]))
"""


def test_a_killed_worker_ends_the_check_with_a_finding_not_a_hang(capture: Path) -> None:
    done = _run_script(KILLED_WORKER, str(capture))
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)
    line, rule, message = findings[0]
    assert rule == "C110"
    assert "a worker process died" in message and "--jobs 1" in message
    # The pool gives up every range still in flight: checking stops after the last range
    # that came back in order (or at the top).
    assert 1 <= line <= capture.read_bytes().count(b"\n")
    # Nothing else, but C111 when not a single range came back.
    assert [f[1] for f in findings[1:]] == ([] if line > 1 else ["C111"])
    assert "Traceback" not in done.stderr


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_workers(main: subprocess.Popen[Any], count: int) -> set[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = _children(main.pid)
        if len(workers) >= count:
            return workers
        assert main.poll() is None, "the check ended before its workers started"
        time.sleep(0.05)
    raise AssertionError("the workers never started")


def _ctrl_c(command: list[str], env: dict[str, str], after: float) -> tuple[subprocess.Popen[str], set[int], str]:
    """Run ``command`` in a process group of its own, and press Ctrl-C (SIGINT to the whole
    group, as a terminal does) ``after`` seconds once its two workers are up: the process,
    its workers and its standard error."""
    main = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, text=True, env=env
    )
    workers = _wait_for_workers(main, 2)
    time.sleep(after)
    os.killpg(main.pid, signal.SIGINT)
    try:
        _, err = main.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(main.pid, signal.SIGKILL)
        raise AssertionError("the check hung after Ctrl-C") from None
    return main, workers, err


def _cli(capture: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "conformance.cli", "check", str(capture), "--jobs", "2", *extra]


def test_workers_exit_and_tidy_up_when_the_main_process_is_killed(capture: Path, tmp_path: Path) -> None:
    # A cancelled CI job: the main process gets SIGKILL and cannot tidy up.
    temp = tmp_path / "temp"
    temp.mkdir()
    main = subprocess.Popen(
        _cli(capture), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TMPDIR": str(temp)}
    )
    workers = _wait_for_workers(main, 2)
    deadline = time.monotonic() + 30
    while not any(temp.rglob("*.chunk")) and time.monotonic() < deadline:
        time.sleep(0.05)  # until results are on their way
    main.kill()
    main.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "workers outlived their parent"
    assert list(temp.iterdir()) == [], "the results folder was left behind"


def test_ctrl_c_ends_the_check_promptly_without_a_traceback(capture: Path, tmp_path: Path) -> None:
    # A terminal sends SIGINT to the whole process group: the CLI and its workers.
    temp = tmp_path / "temp"
    temp.mkdir()
    # 0.3 s: let the workers get busy, some of them sending results.
    main, workers, err = _ctrl_c(_cli(capture), {**os.environ, "TMPDIR": str(temp)}, after=0.3)
    assert main.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted" in err
    deadline = time.monotonic() + 30
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    assert list(temp.iterdir()) == []


def test_a_file_rotated_mid_check_is_a_finding_not_a_mixed_report(capture: Path, tmp_path: Path) -> None:
    # logrotate: the file is renamed and a new one takes its name while workers still open it by name.
    path = tmp_path / "rotating.ndjson"
    path.write_bytes(capture.read_bytes())
    main = subprocess.Popen(
        _cli(path, "--format", "json"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _wait_for_workers(main, 2)
    path.rename(tmp_path / "rotating.ndjson.1")
    path.write_bytes(EVENT % (1, 1))
    out, err = main.communicate(timeout=120)
    report = json.loads(out)
    findings = report["captures"][0]["findings"]
    if not findings:
        pytest.skip("the check finished before the file was rotated (a very fast machine)")
    # C111 too when the rotation beat the first range back: then nothing was checked.
    assert [f["rule"] for f in findings] == (["C110"] if findings[0]["line"] > 1 else ["C110", "C111"]), findings
    assert "changed while it was being checked" in findings[0]["message"]
    assert main.returncode == 1, err


# Under spawn (and forkserver: pytest-xdist workers run threads), a worker is a new
# interpreter that imports the package before it can ignore Ctrl-C. This sitecustomize makes
# that start-up slow, so that the Ctrl-C surely falls into it.
SLOW_START = """
import sys, time
if "--multiprocessing-fork" in sys.argv:
    time.sleep(2)
"""

SPAWNED_CHECK = """
import multiprocessing, sys
from conformance.check import CaptureSummary, check_file, parallel
from conformance.options import Options

parallel._context = lambda: multiprocessing.get_context("spawn")
if __name__ == "__main__":
    try:
        list(check_file(sys.argv[1], CaptureSummary(sys.argv[1]), Options(jobs=2)))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
"""


def test_ctrl_c_while_spawned_workers_start_prints_no_worker_traceback(capture: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SLOW_START)
    script = tmp_path / "spawned_check.py"
    script.write_text(SPAWNED_CHECK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    # 0.5 s: the workers sleep in their start-up for 2 s.
    _, _, err = _ctrl_c([sys.executable, str(script), str(capture)], env, after=0.5)
    assert "interrupted" in err
    assert "Traceback" not in err, err


def test_sigterm_to_the_process_group_leaves_no_results_behind(capture: Path, tmp_path: Path) -> None:
    # CI cancelling a job, or systemd stopping a service, sends SIGTERM to the whole group: the
    # main process dies of it, and the workers, outliving it, remove its results folder.
    temp = tmp_path / "temp"
    temp.mkdir()
    main = subprocess.Popen(
        _cli(capture),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
    )
    workers = _wait_for_workers(main, 2)
    deadline = time.monotonic() + 30
    while not any(temp.rglob("*.chunk")) and time.monotonic() < deadline:
        time.sleep(0.02)  # until results are on their way
    os.killpg(main.pid, signal.SIGTERM)
    _, err = main.communicate(timeout=60)
    assert main.returncode == -signal.SIGTERM, err
    deadline = time.monotonic() + 30
    while (any(_alive(w) for w in workers) or any(temp.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "workers outlived their parent"
    assert list(temp.iterdir()) == [], "the results folder was left behind"
