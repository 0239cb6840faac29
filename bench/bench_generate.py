"""Two figures for docs/fuzzing.md: generated valid events per second (target >= 1,000 on one
core) and the time to fuzz a trivial consumer with the default settings.

    python bench/bench_generate.py [--examples N]

Generation runs through @given (no .example()), generate phase only, CPU time of this
process (so other load on the machine does not count against it).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from conformance.consumers import fuzz_consumer
from conformance.schemas import ACTIONS
from conformance.strategies import events, streams


def rate(strategy: st.SearchStrategy[Any], size: Any, examples: int) -> float:
    count = [0]

    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate])
    @given(strategy)
    def run(value: Any) -> None:
        count[0] += size(value)

    start = time.process_time()
    run()
    return count[0] / (time.process_time() - start)


def trivial(event: dict[str, Any]) -> None:
    """The trivial consumer: it does nothing."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=300)
    n = parser.parse_args().examples
    per_action = rate(st.tuples(*(events(a) for a in ACTIONS)), len, n)
    print(f"events (one of each action per example): {per_action:,.0f} events/s")
    batches = rate(st.lists(events(), min_size=50, max_size=50), len, n // 5)
    print(f"events (lists of 50, any action):         {batches:,.0f} events/s")
    print(f"streams (interleaved sessions):           {rate(streams(), len, n):,.0f} events/s")
    start, cpu = time.perf_counter(), time.process_time()
    fuzz_consumer(trivial, spec="bench_generate:trivial")
    print(
        f"fuzzing a trivial consumer, default settings: {time.perf_counter() - start:.1f} s wall, "
        f"{time.process_time() - cpu:.1f} s CPU"
    )


if __name__ == "__main__":
    main()
