"""Several reports from one run: every reporter gets the same streamed calls, in order.

``--format`` picks the report for standard output, and each ``--report FORMAT=PATH`` adds
one written to a file; the check runs once, and each finding is handed to every reporter as
it is found, so none of them needs the findings kept (:class:`FanOut`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO

from ..check.tally import CaptureSummary
from ..escape import display_path
from ..findings import Finding
from ..options import Options
from .base import Reporter, Totals


class FanOut:
    """A reporter that hands each call on to several reporters, in the order given, and closes
    the report files it is given once the last reporter has closed."""

    def __init__(self, reporters: Sequence[Reporter], files: Sequence[IO[str]] = ()) -> None:
        self.reporters = tuple(reporters)
        self.files = tuple(files)
        self._findings = tuple(reporter.finding for reporter in self.reporters)

    def start_capture(self, path: str) -> None:
        for reporter in self.reporters:
            reporter.start_capture(path)

    def finding(self, path: str, finding: Finding) -> None:
        for finding_of in self._findings:
            finding_of(path, finding)

    def end_capture(self, summary: CaptureSummary) -> None:
        for reporter in self.reporters:
            reporter.end_capture(summary)

    def close(self, totals: Totals) -> None:
        try:
            for reporter in self.reporters:
                reporter.close(totals)
        finally:
            for file in self.files:
                file.close()


class ReportUnwritable(Exception):
    """A report file cannot be opened for writing; the message names it."""


def parse_report(text: str, formats: Sequence[str]) -> tuple[str, str]:
    """``FORMAT=PATH`` as ``(format, path)``; ``ValueError`` says what is wrong with it."""
    name, sep, path = text.partition("=")
    name = name.strip().lower()
    if not sep or not path:
        raise ValueError(f"--report {text!r} is not FORMAT=PATH (sarif=results.sarif)")
    if name not in formats:
        raise ValueError(f"--report {text!r}: unknown format {name!r} (known: {', '.join(formats)})")
    if path == "-":
        raise ValueError(f"--report {text!r}: a report goes to a file; for standard output use --format {name}")
    return name, path


def open_reporters(
    by_name: Mapping[str, type[Reporter]],
    stdout_format: str,
    stdout: IO[str],
    reports: Sequence[tuple[str, str]],
    options: Options,
) -> Reporter:
    """The run's reporter: ``stdout_format`` on ``stdout``, and each ``(format, path)`` of
    ``reports`` in a file of its own (all of them, through one :class:`FanOut`).

    Raises :class:`ReportUnwritable` naming the first file that cannot be opened (those opened
    before it are closed again), so that a typo fails before the check starts."""
    first = by_name[stdout_format](stdout, options)
    if not reports:
        return first
    files: list[IO[str]] = []
    reporters = [first]
    for name, path in reports:
        try:
            out = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - FanOut.close closes it
        except OSError as exc:
            for file in files:
                file.close()
            why = exc.strerror or exc
            raise ReportUnwritable(f"cannot write the {name} report {display_path(path)}: {why}") from None
        files.append(out)
        reporters.append(by_name[name](out, options))
    return FanOut(reporters, files)
