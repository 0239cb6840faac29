"""GitHub Actions: workflow-command annotations within GitHub's limits, a step summary, then
the text summary.

GitHub shows at most 10 error and 10 warning annotations per step (50 per job) and drops
the rest without a word. So the most important findings are kept as they stream by
(:mod:`.ranking`: each rule's first findings before any rule's later ones) and annotated once
the check ends, errors first, no more than GitHub shows; a notice then says how many more
there are and where to see them. Known findings (a baseline lists them) are not annotated.

When ``GITHUB_STEP_SUMMARY`` names a file, a Markdown summary is appended to it: per capture,
the findings by rule and severity, each rule's first findings, and what the capture
exercised; under :data:`MAX_SUMMARY_BYTES` (GitHub takes 1 MiB per step).

Paths are relative to the repository's root (``GITHUB_WORKSPACE``), as GitHub places
annotations on a file of the repository; ``title=`` names the rule's id and name.
"""

from __future__ import annotations

import html
import os
from typing import IO

from ..check.tally import CaptureSummary
from ..escape import display_path
from ..findings import Finding, Severity
from ..options import Options
from ..rules import RULES
from .base import Totals
from .coverage import coverage_markdown
from .paths import relative_path, repository_root
from .ranking import KNOWN, NEW_ERRORS, NEW_WARNINGS, MostImportant, importance
from .text import TextReporter, format_finding

#: GitHub shows this many error annotations, and as many warning ones, per step.
MAX_ANNOTATIONS = 10
#: The step summary stays under this size (GitHub's limit is 1 MiB per step).
MAX_SUMMARY_BYTES = 1000 * 1024
#: Findings shown per rule and capture in the step summary.
SUMMARY_FINDINGS = 3


class GithubReporter(TextReporter):
    """Annotations for the most important findings, a notice for the rest, the step summary
    (when GitHub gives a file for it) and the text summary."""

    @staticmethod
    def needs_columns() -> bool:
        """Annotations name their field's columns (``Options.columns``)."""
        return True

    @staticmethod
    def needs_coverage() -> bool:
        """The step summary shows coverage (written only where GitHub gives it a file)."""
        return bool(os.environ.get("GITHUB_STEP_SUMMARY"))

    def __init__(self, out: IO[str], options: Options) -> None:
        super().__init__(out, options)
        self.root = repository_root()
        self.kept = MostImportant(2 * MAX_ANNOTATIONS, (MAX_ANNOTATIONS, MAX_ANNOTATIONS, 0))
        self.summary_file = os.environ.get("GITHUB_STEP_SUMMARY") or None
        self.sections: list[str] = []  # the step summary's, one per capture
        self.summary_size = 0
        self.captures_left_out = 0
        self.first: dict[str, list[Finding]] = {}  # this capture's first findings, by rule
        self.failing = False  # whether this capture has a failing finding

    def start_capture(self, path: str) -> None:
        self.first = {}
        self.failing = False

    def finding(self, path: str, finding: Finding) -> None:
        self.kept.offer(path, finding)
        self.severity_of[finding.rule] = finding.severity  # for the text summary
        if self.summary_file is None:
            return
        self.failing = self.failing or self.options.fails(finding)
        first = self.first.setdefault(finding.rule, [])
        if len(first) < SUMMARY_FINDINGS:
            first.append(finding)

    def end_capture(self, summary: CaptureSummary) -> None:
        if self.summary_file is None:
            return
        section = self._section(summary)
        size = len(section.encode("utf-8"))
        if self.summary_size + size > MAX_SUMMARY_BYTES - 4096:  # room for the closing note
            self.captures_left_out += 1
            return
        self.sections.append(section)
        self.summary_size += size

    def close(self, totals: Totals) -> None:
        selected = sorted(self.kept.selected(), key=lambda chosen: importance(chosen[1]))
        for path, finding, _ in selected:
            self.out.write(self._annotation(path, finding) + "\n")
        notice = self._notice()
        if notice:
            self.out.write(f"::notice title=telephony-conformance::{_escape_data(notice)}\n")
        if self.summary_file is not None:
            self._write_summary(totals)
        super().close(totals)

    # --- annotations --------------------------------------------------------------------
    def _annotation(self, path: str, finding: Finding) -> str:
        kind = "error" if finding.severity is Severity.ERROR else "warning"
        props = f"file={_escape_property(relative_path(path, self.root))}"
        if finding.line:
            props += f",line={finding.line}"
            if finding.span is not None:
                props += f",col={finding.span[0]},endColumn={finding.span[1]}"
        rule = RULES[finding.rule]
        props += f",title={_escape_property(f'{rule.id} {rule.name}')}"
        message = finding.message_with_hint()
        return f"::{kind} {props}::{_escape_data(message)}"

    def _notice(self) -> str:
        """How many findings were not annotated, and where to see them; "" when none."""
        errors = self.kept.offered[NEW_ERRORS] - self.kept.kept()[NEW_ERRORS]
        warnings = self.kept.offered[NEW_WARNINGS] - self.kept.kept()[NEW_WARNINGS]
        known = self.kept.offered[KNOWN]
        parts = []
        if errors:
            parts.append(f"{errors:,} error(s)")
        if warnings:
            parts.append(f"{warnings:,} warning(s)")
        text = ""
        if parts:
            where = "the step summary counts them by rule; " if self.summary_file else ""
            text = (
                f"{' and '.join(parts)} more are not annotated: GitHub shows {MAX_ANNOTATIONS} error and "
                f"{MAX_ANNOTATIONS} warning annotations per step. See them all: {where}`telephony-conformance check` "
                "--format text --max-findings 0 lists each, --report json=PATH or --report sarif=PATH keeps them."
            )
        if known:
            text += (" " if text else "") + f"{known:,} known finding(s), which the baseline lists, are not annotated."
        return text

    # --- the step summary ---------------------------------------------------------------
    def _section(self, summary: CaptureSummary) -> str:
        shown = html.escape(relative_path(summary.path, self.root))
        verdict = "failed" if self.failing else "passed"
        lines = [
            f"### {'✅' if verdict == 'passed' else '❌'} `{shown}` {verdict}",
            "",
            f"{summary.lines:,} lines, {summary.events:,} events ({summary.telephony_events:,} telephony), "
            f"{summary.sessions:,} sessions; {summary.errors:,} error(s), {summary.warnings:,} warning(s).",
            "",
            *coverage_markdown(summary),
            "",
        ]
        if summary.findings_by_rule:
            lines += ["| rule | severity | findings | known |", "| --- | --- | ---: | ---: |"]
            for rule_id, count in sorted(summary.findings_by_rule.items()):
                rule = RULES[rule_id]
                severity = self.options.severity_of(rule_id).value
                known = summary.known_by_rule.get(rule_id, 0)
                lines.append(f"| `{rule.id}` {rule.name} | {severity} | {count:,} | {known:,} |")
            lines.append("")
            for rule_id in sorted(self.first):
                first = self.first[rule_id]
                rule = RULES[rule_id]
                body = "\n".join(html.escape(format_finding(summary.path, f)) for f in first)
                more = summary.findings_by_rule.get(rule_id, 0) - len(first)
                tail = f"\n… and {more:,} more" if more > 0 else ""
                lines += [
                    f"<details><summary>{rule.id} {rule.name}: first findings</summary>",
                    "",
                    f"<pre>{body}{tail}</pre>",
                    "</details>",
                    "",
                ]
        return "\n".join(lines) + "\n"

    def _write_summary(self, totals: Totals) -> None:
        head = [
            "## telephony-conformance",
            "",
            f"{totals.captures} capture(s): {totals.errors:,} error(s), {totals.warnings:,} warning(s); "
            f"{'passed' if totals.passed else 'failed'}.",
            "",
        ]
        tail = []
        if self.captures_left_out:
            tail = [f"_{self.captures_left_out:,} more capture(s) are left out, to keep this summary under 1 MiB._", ""]
        text = "\n".join(head) + "\n" + "".join(self.sections) + "\n".join(tail)
        assert self.summary_file is not None
        try:
            with open(self.summary_file, "a", encoding="utf-8") as file:
                file.write(text)
        except OSError as exc:
            # The run's verdict does not depend on its summary: say so once, and go on.
            self.out.write(
                f"::warning title=telephony-conformance::cannot write the step summary to "
                f"{_escape_data(display_path(self.summary_file))}: {_escape_data(str(exc.strerror or exc))}\n"
            )


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
