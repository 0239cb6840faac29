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
from typing import Any

from ..loader import LoadError, load_object
from .consumers import ConsumerSetupError, Pipecat, as_consumer


def main(argv: Sequence[str] | None = None) -> int:
    """Feed an NDJSON file to a Python consumer; its exception propagates with a full traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    pipecat = args[:1] == ["--pipecat"]
    args = args[1:] if pipecat else args
    if len(args) != 2:
        print("usage: python -m conformance.consumers [--pipecat] MODULE:OBJECT FILE.ndjson", file=sys.stderr)
        return 2
    spec, path = args
    try:
        target = load_object(spec)
        consumer = as_consumer(Pipecat(target) if pipecat else target, spec)
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        events = [_event(json.loads(line)) for line in lines if line.strip()]
    except (LoadError, ConsumerSetupError, TypeError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"replay: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # not NDJSON (json.JSONDecodeError, UnicodeDecodeError)
        print(f"replay: {path} is not a written stream (one JSON event per line): {exc}", file=sys.stderr)
        return 2
    outcome = consumer.deliver(events)
    n = f"{len(events)} event{'' if len(events) == 1 else 's'}"
    if outcome.failed:
        print(outcome.consumer_traceback, file=sys.stderr, end="")
        print(f"{spec} failed on event {(outcome.index or 0) + 1} of {n} in {path}", file=sys.stderr)
        return 1
    print(f"{spec} handled {n} from {path}")
    return 0


def _event(line: Any) -> Any:
    """A written line as the consumer's adapter takes it: a recorded daily-python callback
    (``{"handler", "data"}``, what a daily-python consumer's failure is written as) becomes
    the event it was made from."""
    if isinstance(line, dict) and "data" in line and "action" not in line:
        from .strategies import from_daily_python_record

        return from_daily_python_record(line)
    return line


if __name__ == "__main__":
    sys.exit(main())
