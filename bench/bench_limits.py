"""Benchmark: what hostile captures cost the checker, in time and memory (issue 19).

    python bench/bench_limits.py                    # all of it (a few minutes, about 4 GB of disk)
    python bench/bench_limits.py --quick            # smaller inputs, for a try
    python bench/bench_limits.py --only sessions    # one measurement: sessions, dense, long-line, bomb

Each measurement runs the installed CLI (``telephony-conformance``, or ``--cli`` another one)
as a process of its own and reports its wall time and the peak resident memory of the
largest process of its tree (the checking process or one of its workers), read from
``/proc`` while it runs (Linux):

* **sessions**: memory per open session. A capture of N dial-in calls, connected and never
  stopped (Daily's documented ``dialin-connected``, each call with its own session id and
  SIP Call-ID, one call client), checked with ``--jobs 1``; the figure is the growth of peak
  memory from N/10 to N calls, divided by the calls added, so that the interpreter, the
  schemas and the line buffers cancel out;
* **dense**: peak memory on a capture dense with findings: lines of ``{}`` (one C109 each),
  with the default jobs, and with ``--jobs 1`` beside it;
* **long-line**: the time for one line of 1 GB (C107), with the default jobs;
* **bomb**: the time for 1 GB of newlines, gzipped (a newline bomb).

The captures are generated into ``bench/out`` the first time.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

#: Daily's documented dialin-connected (schemas/dialin-connected.schema.json), one per call.
CONNECTED = (
    '{"action":"dialin-connected","callClientId":"17225364729060.9442072768918943",'
    '"sessionId":"%08x-5216-4481-a2ef-515d6dd7dfc6","userId":"user_123","sipFrom":"sip:caller@example.com",'
    '"sipEndpoint":"sip:room-name@sip.daily.co","sipCallId":"%08xabc123@sip.daily.co","provider":"daily"}\n'
)


def peak(command: list[str]) -> tuple[float, int, int]:
    """Run ``command``; its wall time, and the peak RSS in bytes of the process itself and of
    the largest of the processes it started (VmHWM, polled every 20 ms; it only grows)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    highest: dict[int, int] = {}
    while process.poll() is None:
        for pid in _tree(process.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        highest[pid] = max(highest.get(pid, 0), int(line.split()[1]) * 1024)
            except (OSError, ValueError):
                pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {stderr}")
    main = highest.pop(process.pid, 0)
    return elapsed, main, max(highest.values(), default=0)


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    out = [root]
    for pid in out:
        out += [child for child, parent in parents.items() if parent == pid]
    return out


def _generate(path: Path, write: object) -> Path:
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        write(partial)  # type: ignore[operator]
        partial.rename(path)
    return path


def sessions_capture(calls: int) -> Path:
    def write(path: Path) -> None:
        with path.open("w") as f:
            for start in range(0, calls, 10_000):
                f.write("".join(CONNECTED % (n, n) for n in range(start, min(start + 10_000, calls))))

    return _generate(OUT / f"open-sessions-{calls}.ndjson", write)


def dense_capture(lines: int) -> Path:
    def write(path: Path) -> None:
        with path.open("wb") as f:
            for _ in range(lines // 1_000_000):
                f.write(b"{}\n" * 1_000_000)
            f.write(b"{}\n" * (lines % 1_000_000))

    return _generate(OUT / f"dense-{lines}.ndjson", write)


def long_line_capture(size: int) -> Path:
    def write(path: Path) -> None:
        with path.open("wb") as f:
            f.write(b'{"action":"dialin-ready","pad":"')
            block = b"a" * (64 * 1024 * 1024)
            for _ in range(size // len(block)):
                f.write(block)
            f.write(b'"}\n')

    return _generate(OUT / f"long-line-{size}.ndjson", write)


def bomb_capture(size: int) -> Path:
    def write(path: Path) -> None:
        with gzip.open(path, "wb", compresslevel=1) as f:  # level 1: the ratio the bomb had
            f.write(b'{"action":"dialin-ready","callClientId":"c","sipEndpoint":"sip:r@sip.daily.co"}\n')
            block = b"\n" * (64 * 1024 * 1024)
            for _ in range(size // len(block)):
                f.write(block)

    return _generate(OUT / f"newline-bomb-{size}.ndjson.gz", write)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    parser.add_argument("--only", choices=("sessions", "dense", "long-line", "bomb"), action="append")
    parser.add_argument("--cli", default=shutil.which("telephony-conformance") or "telephony-conformance")
    args = parser.parse_args()
    only = set(args.only or ("sessions", "dense", "long-line", "bomb"))
    quick = args.quick
    cli = [args.cli, "check", "--format", "json"]
    results: dict[str, object] = {"cli": args.cli, "cores": len(os.sched_getaffinity(0))}
    if "sessions" in only:
        calls = 200_000 if quick else 2_000_000
        few = sessions_capture(calls // 10)
        many = sessions_capture(calls)
        _, low, _ = peak([*cli, "--jobs", "1", str(few)])
        _, high, _ = peak([*cli, "--jobs", "1", str(many)])
        per = (high - low) / (calls - calls // 10)
        results["bytes per open session"] = round(per)
        print(f"open sessions: {calls:,} calls peak at {high / 2**20:,.0f} MiB, {per:,.0f} bytes per open session")
    if "dense" in only:
        lines = 600_000 if quick else 6_000_000
        path = dense_capture(lines)
        for jobs in ([], ["--jobs", "1"]):
            seconds, main_rss, worker_rss = peak([*cli, *jobs, str(path)])
            label = "default jobs" if not jobs else "--jobs 1"
            results[f"dense {label} peak MiB"] = round(main_rss / 2**20)
            workers = f", largest worker {worker_rss / 2**20:,.0f} MiB" if worker_rss else ""
            if worker_rss:
                results[f"dense {label} worker peak MiB"] = round(worker_rss / 2**20)
            print(
                f"{lines:,} lines of {{}} ({path.stat().st_size / 1e6:.0f} MB), {label}: {seconds:.1f} s, "
                f"peak {main_rss / 2**20:,.0f} MiB{workers}"
            )
    if "long-line" in only:
        size = 2**28 if quick else 2**30
        path = long_line_capture(size)
        seconds, main_rss, worker_rss = peak([*cli, str(path)])
        results["long line seconds"] = round(seconds, 2)
        print(
            f"one line of {size / 2**30:g} GiB, default jobs: {seconds:.1f} s, "
            f"peak {max(main_rss, worker_rss) / 2**20:,.0f} MiB"
        )
    if "bomb" in only:
        size = 2**28 if quick else 2**30
        path = bomb_capture(size)
        seconds, main_rss, _ = peak([*cli, str(path)])
        results["newline bomb seconds"] = round(seconds, 2)
        print(
            f"{size / 2**30:g} GiB of newlines gzipped to {path.stat().st_size / 1e6:.1f} MB: "
            f"{seconds:.1f} s, peak {main_rss / 2**20:,.0f} MiB"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
