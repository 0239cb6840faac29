"""What every reporter shares: the calls it gets (:class:`Reporter`) and the run's :class:`Totals`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from ..check.tally import CaptureSummary, Tally
from ..findings import Finding
from ..options import Options


@dataclass
class Totals(Tally):
    """Counts over every capture of a run."""

    captures: int = 0
    failed_captures: list[str] = field(default_factory=list)
    #: Files that folder scans found but did not check (not named as captures).
    skipped_files: list[str] = field(default_factory=list)

    def add_capture(self, summary: CaptureSummary, failed: bool) -> None:
        self.captures += 1
        self.add(summary)
        if failed:
            self.failed_captures.append(summary.path)

    @property
    def passed(self) -> bool:
        return not self.failed_captures

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's summary (``schemas/report.schema.json``)."""
        return {
            "captures": self.captures,
            "lines": self.lines,
            "events": self.events,
            "telephonyEvents": self.telephony_events,
            "otherEvents": self.other_events,
            "sessions": self.sessions,
            "errors": self.errors,
            "warnings": self.warnings,
            "passed": self.passed,
        }


class Reporter(Protocol):
    """A renderer of one output format, writing to ``out`` as the check goes."""

    def __init__(self, out: IO[str], options: Options) -> None: ...
    def start_capture(self, path: str) -> None: ...
    def finding(self, path: str, finding: Finding) -> None: ...
    def end_capture(self, summary: CaptureSummary) -> None: ...
    def close(self, totals: Totals) -> None: ...
