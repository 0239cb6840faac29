"""Reporting a check: one renderer per format, picked by name from :data:`REPORTER_BY_NAME`.

Reporters stream: they get each capture's findings as the checker yields them, so a capture
with a million bad lines never sits in memory. Every reporter gets the same calls:
``start_capture(path)``, ``finding(path, finding)``, ``end_capture(summary)`` and finally
``close(totals)`` (:class:`~.base.Reporter`).
"""

from __future__ import annotations

from .base import Reporter, Totals
from .github import GithubReporter
from .gitlab import GitlabReporter
from .json import JsonReporter
from .junit import JunitReporter
from .sarif import SarifReporter
from .text import TextReporter, format_finding

#: Each output format, by the name ``--format`` takes.
REPORTER_BY_NAME: dict[str, type[Reporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
    "github": GithubReporter,
    "sarif": SarifReporter,
    "junit": JunitReporter,
    "gitlab": GitlabReporter,
}

def needs_coverage(formats: list[str]) -> bool:
    """Whether a report of these formats shows coverage's field counts (``Options.coverage``),
    which cost time on every event."""
    return any(getattr(REPORTER_BY_NAME[name], "needs_coverage", lambda: False)() for name in formats)


def needs_columns(formats: list[str]) -> bool:
    """Whether a report of these formats places findings on their field's columns
    (``Options.columns``), which costs time on each finding."""
    return any(getattr(REPORTER_BY_NAME[name], "needs_columns", lambda: False)() for name in formats)


__all__ = [
    "REPORTER_BY_NAME",
    "GithubReporter",
    "GitlabReporter",
    "JsonReporter",
    "JunitReporter",
    "Reporter",
    "SarifReporter",
    "TextReporter",
    "Totals",
    "format_finding",
    "needs_columns",
    "needs_coverage",
]
