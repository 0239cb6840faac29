"""Rendering findings: text for people, GitHub workflow annotations, and JSON for tools.

Reporters stream: they get each capture's findings as the checker yields them, so a capture
with a million bad lines never sits in memory. Every reporter gets the same calls:
``start_capture(path)``, ``finding(path, finding)``, ``end_capture(summary)`` and finally
``close(totals)``. The JSON form is described by ``schemas/report.schema.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any, Protocol

import orjson

from .checker import CaptureSummary
from .findings import Finding, Severity
from .options import Options


@dataclass
class Totals:
    """Counts over every capture of a run."""

    captures: int = 0
    lines: int = 0
    events: int = 0
    telephony_events: int = 0
    other_events: int = 0
    sessions: int = 0
    errors: int = 0
    warnings: int = 0
    failed_captures: list[str] = field(default_factory=list)

    def add(self, summary: CaptureSummary, failed: bool) -> None:
        self.captures += 1
        self.lines += summary.lines
        self.events += summary.events
        self.telephony_events += summary.telephony_events
        self.other_events += summary.other_events
        self.sessions += summary.sessions
        self.errors += summary.errors
        self.warnings += summary.warnings
        if failed:
            self.failed_captures.append(summary.path)

    @property
    def passed(self) -> bool:
        return not self.failed_captures

    def as_dict(self) -> dict[str, Any]:
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
    def start_capture(self, path: str) -> None: ...
    def finding(self, path: str, finding: Finding) -> None: ...
    def end_capture(self, summary: CaptureSummary) -> None: ...
    def close(self, totals: Totals) -> None: ...


def location(path: str, line: int) -> str:
    """``path:line`` as editors and terminals link it; the capture as a whole is ``path``."""
    return f"{path}:{line}" if line else path


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


class GithubReporter(TextReporter):
    """GitHub Actions workflow commands (``::error file=…,line=…::…``), then the text summary."""

    def finding(self, path: str, finding: Finding) -> None:
        kind = "error" if finding.severity is Severity.ERROR else "warning"
        props = f"file={_escape_property(path)}"
        if finding.line:
            props += f",line={finding.line}"
        props += f",title={_escape_property(finding.rule)}"
        message = finding.message + (f" (hint: {finding.hint})" if finding.hint else "")
        self.out.write(f"::{kind} {props}::{_escape_data(message)}\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


class JsonReporter:
    """One JSON document (``schemas/report.schema.json``), written as findings arrive."""

    def __init__(self, out: IO[str], options: Options, tool_version: str, schema_version: str) -> None:
        self.out = out
        self.first_capture = True
        self.first_finding = True
        head = {
            "tool": "telephony-conformance",
            "version": tool_version,
            "schemaVersion": schema_version,
            "options": {
                "strict": options.strict,
                "partial": options.partial,
                "select": list(options.select),
                "ignore": list(options.ignore),
                "allowEmpty": options.allow_empty,
            },
        }
        self.out.write(orjson.dumps(head).decode()[:-1] + ',"captures":[')

    def start_capture(self, path: str) -> None:
        if not self.first_capture:
            self.out.write(",")
        self.first_capture = False
        self.first_finding = True
        self.out.write('{"path":' + orjson.dumps(path).decode() + ',"findings":[')

    def finding(self, path: str, finding: Finding) -> None:
        if not self.first_finding:
            self.out.write(",")
        self.first_finding = False
        self.out.write(orjson.dumps(finding.as_dict()).decode())

    def end_capture(self, summary: CaptureSummary) -> None:
        counts = summary.as_dict()
        del counts["path"]
        self.out.write("]," + orjson.dumps(counts).decode()[1:])

    def close(self, totals: Totals) -> None:
        self.out.write('],"summary":' + orjson.dumps(totals.as_dict()).decode() + "}\n")
