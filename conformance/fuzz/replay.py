"""Replaying a failing stream: ``python -m conformance.consumers [--pipecat] MODULE:OBJECT FILE.ndjson``.

The command a failure prints (:mod:`.failures`): it feeds the NDJSON file to the Python
consumer again, through the same adapter, and lets its exception propagate with a full
traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..loader import load_object
from .consumers import Pipecat, as_consumer


def main(argv: Sequence[str] | None = None) -> int:
    """Feed an NDJSON file to a Python consumer; its exception propagates with a full traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    pipecat = args[:1] == ["--pipecat"]
    args = args[1:] if pipecat else args
    if len(args) != 2:
        print("usage: python -m conformance.consumers [--pipecat] MODULE:OBJECT FILE.ndjson", file=sys.stderr)
        return 2
    spec, path = args
    target = load_object(spec)
    consumer = as_consumer(Pipecat(target) if pipecat else target, spec)
    events = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    outcome = consumer.deliver(events)
    if outcome.failed:
        print(outcome.consumer_traceback, file=sys.stderr, end="")
        print(f"{spec} failed on event {(outcome.index or 0) + 1} of {len(events)} in {path}", file=sys.stderr)
        return 1
    print(f"{spec} handled {len(events)} event(s) from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
