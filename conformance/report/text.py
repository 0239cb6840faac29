"""The text report, for people: one line per finding, then a summary and the next step."""

from __future__ import annotations

from typing import IO

from ..check.tally import CaptureSummary
from ..escape import display_path
from ..findings import Finding
from ..options import Options
from .base import Totals


def location(path: str, line: int) -> str:
    """``path:line`` as editors and terminals link it; the capture as a whole is ``path``."""
    shown = display_path(path)
    return f"{shown}:{line}" if line else shown


def format_finding(path: str, finding: Finding) -> str:
    """The one-line text form: ``path:line: RULE severity: message``."""
    return f"{location(path, finding.line)}: {finding.rule} {finding.severity.value}: {finding.message}"


def summary_lines(totals: Totals, options: Options) -> list[str]:
    """The closing summary (what was checked, what was found) and the next step."""
    plural = "" if totals.captures == 1 else "s"
    lines = [
        f"Checked {totals.captures} capture{plural}: {totals.lines:,} lines, {totals.events:,} events "
        f"({totals.telephony_events:,} telephony, {totals.other_events:,} other), {totals.sessions:,} sessions.",
        f"Findings: {totals.errors:,} error(s), {totals.warnings:,} warning(s)"
        + (" (warnings fail under --strict)." if options.strict and totals.warnings else "."),
    ]
    if totals.passed:
        lines.append("Passed: every event matches its schema and every session its lifecycle.")
    else:
        lines.append(
            "Failed. Next: fix the events at the lines above (each names its rule; "
            "`telephony-conformance rules` explains them), or rerun with --partial if the capture "
            "began mid-call, or --ignore RULE to skip a rule."
        )
    return lines


class TextReporter:
    """One line per finding, then a summary and the next step. Hints go on an indented line."""

    def __init__(self, out: IO[str], options: Options) -> None:
        self.out = out
        self.options = options

    def start_capture(self, path: str) -> None:
        pass

    def finding(self, path: str, finding: Finding) -> None:
        self.out.write(format_finding(path, finding) + "\n")
        if finding.hint:
            self.out.write(f"    hint: {finding.hint}\n")

    def end_capture(self, summary: CaptureSummary) -> None:
        pass

    def close(self, totals: Totals) -> None:
        if totals.errors or totals.warnings:
            self.out.write("\n")
        self.out.write("\n".join(summary_lines(totals, self.options)) + "\n")
