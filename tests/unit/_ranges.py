"""The parallel line stage's items as the pipeline sees them, for the tests of tests/unit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.check.ranges import RangeSessions, join
from conformance.check.sessions import SessionTracker
from conformance.findings import Finding


def joined_findings(items: Iterable[Any]) -> list[Finding]:
    """The findings of the parallel line stage's items, each range's sessions joined in turn."""
    tracker = SessionTracker()
    out: list[Finding] = []
    for item in items:
        if isinstance(item, RangeSessions):
            out += join(tracker, item)
        elif isinstance(item, Finding):
            out.append(item)
    return out
