"""The fuzzing figures for docs/fuzzing.md: generated valid events per second (target >= 1,000
on one core), and the wall time of fuzzing a trivial consumer measured the way a user runs
it: ``pytest --telephony-consumer handlers:on_event`` in a fresh process, default settings.

    python bench/bench_generate.py [--examples N] [--rounds N]

Generation runs through @given (no .example()), generate phase only, CPU time of this
process (so other load on the machine does not count against it). The pytest runs are the
best of ``--rounds``; where schemathesis is installed (the [receivers] extra) they are also
given with ``-p no:schemathesis``, which skips the pytest plugin schemathesis registers for
every pytest run; where pipecat is installed, a trivial pipecat bot is fuzzed too.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from conformance.schemas import ACTIONS
from conformance.strategies import events, streams

#: What a user's project holds: a trivial consumer, and a pipecat bot that handles every event.
PROJECT = {
    "handlers.py": """
        def on_event(event):
            return event.get("action")
        """,
    "bot.py": """
        from loguru import logger
        from pipecat.transports.daily.transport import DailyParams, DailyTransport

        logger.remove()


        def make_bot():
            transport = DailyTransport("https://example.daily.co/room", None, "bot", DailyParams())
            for name in ("on_dialin_ready", "on_dialin_connected", "on_dialin_stopped", "on_dialin_error",
                         "on_dialin_warning", "on_dialout_connected", "on_dialout_answered", "on_dialout_stopped",
                         "on_dialout_error", "on_dialout_warning"):
                transport.add_event_handler(name, _handled)
            return transport


        async def _handled(transport, data):
            return data
        """,
}


def rate(strategy: st.SearchStrategy[Any], size: Any, examples: int) -> float:
    count = [0]

    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate])
    @given(strategy)
    def run(value: Any) -> None:
        count[0] += size(value)

    start = time.process_time()
    run()
    return count[0] / (time.process_time() - start)


def pytest_wall(folder: Path, args: list[str], rounds: int) -> float:
    """Best wall time of ``pytest ARGS`` in ``folder``, as a user starts it."""
    pytest = Path(sys.executable).parent / "pytest"
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        done = subprocess.run(
            [str(pytest), "-q", "-p", "no:cacheprovider", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        best = min(best, time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"pytest {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    n = options.examples
    per_action = rate(st.tuples(*(events(a) for a in ACTIONS)), len, n)
    print(f"events (one of each action per example): {per_action:,.0f} events/s")
    batches = rate(st.lists(events(), min_size=50, max_size=50), len, n // 5)
    print(f"events (lists of 50, any action):         {batches:,.0f} events/s")
    print(f"streams (interleaved sessions):           {rate(streams(), len, n):,.0f} events/s")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, text in PROJECT.items():
            (folder / name).write_text(textwrap.dedent(text))
        runs = [("a trivial consumer", ["--telephony-consumer", "handlers:on_event"])]
        if importlib.util.find_spec("pipecat") is not None:
            runs.append(("a trivial pipecat bot", ["--telephony-pipecat", "bot:make_bot"]))
        schemathesis = importlib.util.find_spec("schemathesis") is not None
        for what, args in runs:
            wall = pytest_wall(folder, args, options.rounds)
            line = f"pytest {' '.join(args)} ({what}, default settings): {wall:.1f} s wall"
            if schemathesis:
                without = pytest_wall(folder, ["-p", "no:schemathesis", *args], options.rounds)
                line += f"; with -p no:schemathesis {without:.1f} s"
            print(line)


if __name__ == "__main__":
    main()
