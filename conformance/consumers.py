"""The consumer fuzzer under its first name: ``python -m conformance.consumers MODULE:OBJECT FILE``
replays a failing stream (:mod:`conformance.fuzz.replay`), and :func:`fuzz_consumer` fuzzes a
consumer in a user's own test (:mod:`conformance.fuzz.runner`)."""

from __future__ import annotations

import sys

from .fuzz.consumers import Pipecat, Program
from .fuzz.failures import ConsumerFailed, ConsumerFailure
from .fuzz.replay import main
from .fuzz.runner import fuzz_consumer

__all__ = ["ConsumerFailed", "ConsumerFailure", "Pipecat", "Program", "fuzz_consumer", "main"]

if __name__ == "__main__":
    sys.exit(main())
