"""Benchmark: the capture checker against the orjson parse-only floor, in one run.

    python bench/bench_check.py            # 100k and 1M events (about five minutes)
    python bench/bench_check.py --quick    # 20k and 100k events
    python bench/bench_check.py --baseline OTHER_VENV   # also another build, in the same run

``--baseline`` runs the CLI of another installation (a virtualenv with an earlier commit's
wheel, say) beside this one's, in the same rounds, and prints the ratio of the two: how a
change is held to "not slower", on a machine too noisy to compare runs made apart.

Generates realistic captures (interleaved dial-in and dial-out sessions, two call clients,
non-telephony events, about 1% defects), then runs each approach as its own process and
reports whole-process wall time and peak RSS. Every figure is a ratio to the same run's
floor (orjson.loads on every line), because this machine is noisy and absolute seconds are
not comparable between runs. Results are printed as a Markdown table for the README.

It measures the installed package: ``tox -e bench`` installs the wheel users get, with its
two per-line loops compiled (hatch_build.py), and then also runs the CLI with those loops
read from their .py files, for the pure-Python figure of the same run. An editable install
is pure Python, and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

FLOOR = """
import sys, orjson
loads = orjson.loads
with open(sys.argv[1], "rb") as f:
    for line in f:
        try:
            loads(line)
        except orjson.JSONDecodeError:
            pass
"""

JSONSCHEMA_LOOP = """
import sys, json, orjson
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from conformance.schemas import load_schemas
schemas = load_schemas()
registry = Registry().with_resources(
    (s["$id"], Resource.from_contents(s)) for s in schemas.values())
validators = {n[:-12]: Draft202012Validator(s, registry=registry) for n, s in schemas.items()}
errors = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        v = validators.get(event.get("action")) if isinstance(event, dict) else None
        if v is not None:
            errors += sum(1 for _ in v.iter_errors(event))
print(errors, file=sys.stderr)
"""

# The CLI with every module of the package read from its .py file, even where the installed
# wheel has some compiled (hatch_build.py): the pure-Python figure, in the same run as the compiled.
PURE_CLI = """
import importlib.util, sys
from pathlib import Path

class SourceOnly:
    def find_spec(self, name, path=None, target=None):
        source = Path(path[0]) / (name.rpartition(".")[2] + ".py") if name.startswith("conformance.") and path else None
        return importlib.util.spec_from_file_location(name, source) if source and source.is_file() else None

sys.meta_path.insert(0, SourceOnly())
from conformance.cli import main
sys.exit(main(sys.argv[1:]))
"""

MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
wall = time.perf_counter() - t
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)
"""


def generate(path: Path, n_events: int, defect_rate: float = 0.01, seed: int = 1) -> None:
    """Write a capture of ``n_events`` lines: realistic sessions, ~defect_rate broken lines."""
    rnd = random.Random(seed)
    clients = ["17225364729060.9442072768918943", "17225364811234.1029384756102938"]
    open_sessions: list[dict] = []
    next_id = 0
    with path.open("wb") as f:
        written = 0
        while written < n_events:
            roll = rnd.random()
            if roll < 0.05:
                line = {"action": "participant-updated", "callClientId": clients[0],
                        "participant": {"session_id": f"p-{rnd.randrange(1000)}", "audio": True}}
            elif roll < 0.06:
                line = {"action": "dialin-ready", "callClientId": clients[0],
                        "sipEndpoint": "sip:room-name@sip.daily.co", "provider": "daily"}
            elif roll < 0.07:
                line = {"action": "dialout-error", "callClientId": clients[0], "provider": "daily",
                        "errorMsg": "DialOut failed with error: process error, Channel closed",
                        "details": {"destination": "+12098888888"}}
            elif len(open_sessions) < 50 or roll < 0.2:
                next_id += 1
                s = {"id": f"{next_id:08x}-5216-4481-a2ef-515d6dd7dfc6", "cc": rnd.choice(clients),
                     "dir": rnd.choice(("in", "out")), "step": 0,
                     "call": f"{next_id:x}@sip.daily.co",
                     "dest": rnd.choice(("+12098888888", "sip:callee@example.com"))}
                open_sessions.append(s)
                line = _session_event(s, rnd)
            else:
                s = open_sessions[rnd.randrange(len(open_sessions))]
                line = _session_event(s, rnd)
                if s["step"] < 0:
                    open_sessions.remove(s)
            raw = orjson.dumps(line)
            if rnd.random() < defect_rate:
                raw = _defect(raw, line, rnd)
            f.write(raw + b"\n")
            written += 1


def _session_event(s: dict, rnd: random.Random) -> dict:
    base = {"callClientId": s["cc"], "sessionId": s["id"], "provider": "daily"}
    step = s["step"]
    if s["dir"] == "in":
        if step == 0:
            s["step"] = 1
            return {"action": "dialin-connected", **base, "sipCallId": s["call"], "sipFrom": "sip:caller@example.com",
                    "sipHeaders": {"X-Call-Ref": "4711"}}
        if rnd.random() < 0.2:
            return {"action": "dialin-warning", **base, "errorMsg": "Requested codec unavailable, using fallback"}
        s["step"] = -1
        return {"action": "dialin-stopped", **base, "sipCallId": s["call"]}
    if step == 0:
        s["step"] = 1
        return {"action": "dialout-connected", **base, "sipCallId": s["call"], "destination": s["dest"],
                "origin": "+13977888822", "callerId": "+13977888822"}
    if step == 1 and rnd.random() < 0.8:
        s["step"] = 2
        return {"action": "dialout-answered", **base, "sipCallId": s["call"], "destination": s["dest"]}
    s["step"] = -1
    if rnd.random() < 0.1:
        return {"action": "dialout-error", **base, "errorMsg": "Remote party did not answer"}
    return {"action": "dialout-stopped", **base, "destination": s["dest"]}


def _defect(raw: bytes, line: dict, rnd: random.Random) -> bytes:
    kind = rnd.randrange(4)
    if kind == 0:
        return raw[: len(raw) // 2]  # truncated line: C101
    if kind == 1 and "provider" in line:
        return orjson.dumps({k: v for k, v in line.items() if k != "provider"})  # S201
    if kind == 2 and "sessionId" in line:
        return orjson.dumps({**line, "sessionId": 42})  # S202
    return orjson.dumps({**line, "action": str(line.get("action", "x")).replace("-", "_", 1)})  # S204 or other


REPEAT = 5
CLI = "telephony-conformance check (CLI, json report)"
ONE_PROCESS = "the same, --jobs 1 (one process)"
PLAIN = "telephony-conformance check (the plain check: text report)"
PLAIN_ONE = "the plain check, --jobs 1"
WITH_REPORTS = "the plain check with --report sarif=… --report junit=…"
WITH_REPORTS_ONE = "the same with the reports, --jobs 1"
BASELINE = "the baseline's CLI"
BASELINE_PLAIN = "the baseline's plain check"


def run_once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """Wall time, peak RSS (bytes; of the largest process in the tree) and exit code of one run."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True, env=env
    ).stdout
    wall, rss_kib, rc_text = out.split()
    return float(wall), int(rss_kib) * 1024, int(rc_text)


def measure_all(approaches: dict[str, tuple[list[str], dict[str, str] | None]]) -> dict[str, tuple[float, int, int]]:
    """Best wall time, largest peak RSS and exit code of each approach over REPEAT rounds.

    The approaches take turns within each round, so that a slow spell of this noisy machine
    hits all of them alike instead of one approach's every run; the minimum is the least
    disturbed run."""
    best: dict[str, tuple[float, int, int]] = {}
    for _ in range(REPEAT):
        for name, (cmd, env) in approaches.items():
            wall, peak, rc = run_once(cmd, env)
            before = best.get(name, (float("inf"), 0, 0))
            best[name] = (min(before[0], wall), max(before[1], peak), rc)
    return best


def bin_of(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def build_of_installed() -> str:
    """What ``telephony-conformance --version`` says of the installed build: "compiled: …"
    (a wheel, as ``tox -e bench`` installs it) or "pure Python" (an editable install)."""
    shown = subprocess.run([bin_of("telephony-conformance"), "--version"], capture_output=True, text=True, check=True)
    return shown.stdout.rstrip().rpartition("; ")[2].rstrip(")")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k and 100k events instead of 100k and 1M")
    parser.add_argument("--skip-jsonschema", action="store_true", help="skip the slow plain-jsonschema loop")
    parser.add_argument("--repeat", type=int, default=5, help="runs per approach; the best wall time counts")
    parser.add_argument("--baseline", metavar="VENV", help="also run the CLI installed in this virtualenv, to compare")
    args = parser.parse_args()
    global REPEAT
    REPEAT = max(1, args.repeat)
    sizes = (20_000, 100_000) if args.quick else (100_000, 1_000_000)
    build = build_of_installed()
    if build == "pure Python":
        print("note: the installed package is pure Python (an editable install?); `tox -e bench` measures the "
              "wheel users get, with its hot loops compiled", file=sys.stderr)
    OUT.mkdir(exist_ok=True)
    rows = []
    rss: dict[int, int] = {}
    for n in sizes:
        path = OUT / f"capture-{n}.ndjson"
        if not path.exists():
            generate(path, n)
        with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as reports:
            # Only our plugin is loaded: in a venv with the test extras, schemathesis and hypothesis
            # add about 2 s of import time to every pytest start, which is theirs, not the check's.
            pytest_cmd = [bin_of("pytest"), "-q", "-p", "no:cacheprovider", "-p", "conformance.pytest_plugin",
                          "--rootdir", empty, "--telephony-conformance", str(path), empty]
            cli = [bin_of("telephony-conformance"), "check", str(path), "--format", "json"]
            approaches = {
                "orjson.loads per line (floor)": ([sys.executable, "-c", FLOOR, str(path)], None),
                CLI: (cli, None),
                ONE_PROCESS: ([*cli, "--jobs", "1"], None),
                "pytest --telephony-conformance": (pytest_cmd, {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}),
            }
            # The CI reports written from the same run (issue 17): held to 10% of the plain check,
            # which prints text (the JSON report counts coverage, which costs time of its own).
            plain = cli[:3]
            written = ["--report", f"sarif={reports}/results.sarif", "--report", f"junit={reports}/junit.xml"]
            approaches[PLAIN] = (plain, None)
            approaches[PLAIN_ONE] = ([*plain, "--jobs", "1"], None)
            approaches[WITH_REPORTS] = ([*plain, *written], None)
            approaches[WITH_REPORTS_ONE] = ([*plain, *written, "--jobs", "1"], None)
            if args.baseline:
                other = [str(Path(args.baseline) / "bin" / "telephony-conformance"), *cli[1:]]
                approaches[BASELINE] = (other, None)
                approaches[BASELINE + ", --jobs 1"] = ([*other, "--jobs", "1"], None)
                approaches[BASELINE_PLAIN] = (other[:3], None)
                approaches[BASELINE_PLAIN + ", --jobs 1"] = ([*other[:3], "--jobs", "1"], None)
            if build != "pure Python":
                pure = [sys.executable, "-c", PURE_CLI, *cli[1:]]
                approaches["the CLI with its hot loops pure Python"] = (pure, None)
                approaches["the same (pure Python), --jobs 1"] = ([*pure, "--jobs", "1"], None)
            results = measure_all(approaches)
        floor = results["orjson.loads per line (floor)"][0]
        for name, (wall, peak, _) in results.items():
            rows.append((n, name, wall, floor, peak))
        cli_rc = results[CLI][2]
        rss[n] = results[CLI][1]
        if not args.skip_jsonschema and n == sizes[0]:
            repeat, REPEAT = REPEAT, 1  # slow enough that noise does not matter
            js, js_rss, _ = measure_all({"plain": ([sys.executable, "-c", JSONSCHEMA_LOOP, str(path)], None)})["plain"]
            REPEAT = repeat
            rows.append((n, "plain jsonschema loop (iter_errors per event)", js, floor, js_rss))
        assert cli_rc == 1, "the defects must make the check fail"
    print("| events | approach | wall time vs floor | throughput vs floor | events/s | peak RSS |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for n, name, wall, floor, peak in rows:
        ratio, speed = wall / floor, floor / wall
        print(f"| {n:,} | {name} | {ratio:.2f}x | {speed:.2f}x | {n / wall:,.0f} | {peak / 2**20:.0f} MiB |")
    small, large = sizes
    growth = (rss[large] - rss[small]) / 2**20
    print(f"\nCLI peak RSS growth from {small:,} to {large:,} events: {growth:+.1f} MiB (target < 20 MiB)")
    walls = {(n, name): wall for n, name, wall, _, _ in rows}
    for n in sizes:
        for plain, reported in ((PLAIN, WITH_REPORTS), (PLAIN_ONE, WITH_REPORTS_ONE)):
            ratio = walls[(n, reported)] / walls[(n, plain)]
            print(f"{n:,} events, {plain}: with the SARIF and JUnit reports, {ratio:.3f}x its wall time "
                  "(target: at most 1.10x)")
    if args.baseline:
        for n in sizes:
            for mine, theirs in (
                (CLI, BASELINE),
                (ONE_PROCESS, BASELINE + ", --jobs 1"),
                (PLAIN, BASELINE_PLAIN),
                (PLAIN_ONE, BASELINE_PLAIN + ", --jobs 1"),
            ):
                ratio = walls[(n, theirs)] / walls[(n, mine)]
                print(f"{n:,} events, {mine}: throughput {ratio:.3f}x the baseline's ({args.baseline})")
    print(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count(), "time": time.strftime("%Y-%m-%d"),
                      "build": build}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
