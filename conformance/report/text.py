"""The text report, for people: each capture's findings grouped by rule (the first N of each,
the rest counted), then a summary whose counts add up and next steps that fit what was found."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import IO

from ..check.tally import CaptureSummary, Tally
from ..escape import display_path
from ..findings import Finding, Severity
from ..options import Options
from ..rules import RULES
from .base import Totals
from .coverage import coverage_line

#: How many of the failing rules' fixes the summary suggests, the most frequent first.
NEXT_STEPS = 3
#: How many skipped file names a folder scan lists before it counts the rest.
SKIPPED_SHOWN = 5


def location(path: str, line: int) -> str:
    """``path:line`` as editors and terminals link it; the capture as a whole is ``path``."""
    shown = display_path(path)
    return f"{shown}:{line}" if line else shown


def format_finding(path: str, finding: Finding) -> str:
    """The one-line text form: ``path:line: RULE severity: message``, and ``[known: reason]``
    for a finding a baseline lists."""
    known = finding.known_note()
    return f"{location(path, finding.line)}: {finding.rule} {finding.severity.value}: {finding.message}{known}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 line``, ``2 lines``, ``1,000 sessions``."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def rule_group_order(by_rule: Iterable[str], severity_of: dict[str, Severity]) -> list[str]:
    """Rule ids with findings, errors before warnings, then in the stages' order (capture,
    event, lifecycle: the registry's)."""
    return sorted(by_rule, key=lambda rule: (severity_of.get(rule) is not Severity.ERROR, _ORDER.get(rule, 0), rule))


_ORDER = {rule: index for index, rule in enumerate(RULES)}


def counts_lines(totals: Tally, captures: int) -> list[str]:
    """What was read, every count adding up: lines = events + blank + rejected, and events =
    telephony + unknown telephony + other."""
    unknown_events = totals.unknown_telephony_events
    unknown = f", {unknown_events:,} unknown telephony (S204)" if unknown_events else ""
    still_open = f", {totals.open_sessions:,} still open at the end" if totals.open_sessions else ""
    return [
        f"Checked {plural(captures, 'capture')}: {plural(totals.lines, 'line')} = {plural(totals.events, 'event')}"
        f" + {totals.blank_lines:,} blank + {totals.rejected_lines:,} not an event.",
        f"Events: {totals.telephony_events:,} telephony{unknown}, {totals.other_events:,} other (not checked); "
        f"{plural(totals.sessions, 'session')}{still_open}.",
    ]


def findings_line(totals: Tally, severity_of: dict[str, Severity], warnings_fail: bool) -> str:
    """``Findings: 4 errors (S201 missing-required-field 2, …), 1 warning (…).``"""
    by_severity: dict[bool, list[str]] = {True: [], False: []}
    for rule in rule_group_order(totals.findings_by_rule, severity_of):
        name = RULES[rule].name if rule in RULES else ""
        by_severity[severity_of.get(rule) is Severity.ERROR].append(f"{rule} {name} {totals.findings_by_rule[rule]:,}")
    parts = []
    for is_error, count, noun in ((True, totals.errors, "error"), (False, totals.warnings, "warning")):
        rules_ = f" ({', '.join(by_severity[is_error])})" if by_severity[is_error] else ""
        parts.append(plural(count, noun) + rules_)
    suffix = "; warnings fail (--strict or --fail-on warning)" if warnings_fail and totals.warnings else ""
    return f"Findings: {', '.join(parts)}{suffix}."


def verdict_lines(totals: Totals, options: Options, severity_of: dict[str, Severity]) -> list[str]:
    """Passed or failed, claiming no more than the rules that ran, and what to do next."""
    enabled, checked = options.enabled_rules(), options.checked_rules()
    skipped = [rule for rule in RULES if rule not in enabled]
    scope = "every event matches its schema and every session its lifecycle"
    if skipped:
        scope = (
            f"the {plural(len(checked), 'rule')} checked ({', '.join(r for r in RULES if r in checked)}) found "
            "nothing that fails"
        )
    lines = []
    if totals.passed and totals.errors:  # the errors are known ones, or --fail-on never
        lines.append("Passed: no finding fails (the errors above are known ones, or --fail-on never reports only).")
    elif totals.passed:
        lines.append(f"Passed: {scope}.")
        if totals.warnings and options.failing_level == "error":
            lines.append("The warnings above are doubtful, not violations; --strict makes them fail.")
    else:
        lines.append(f"Failed: {plural(len(totals.failed_captures), 'capture')} of {totals.captures:,}.")
        # Ranked by the findings that fail: a baseline's known ones are not what to fix next.
        new = {rule: n - totals.known_by_rule.get(rule, 0) for rule, n in totals.findings_by_rule.items()}
        failing = [
            rule
            for rule in sorted(rule_group_order(totals.findings_by_rule, severity_of), key=lambda r: -new[r])
            if rule in RULES
            and new[rule] > 0
            and (severity_of.get(rule) is Severity.ERROR or options.failing_level == "warning")
        ]
        most = f", for the {NEXT_STEPS} rules with the most findings" if len(failing) > NEXT_STEPS else ""
        lines.append(f"Next (a capture is evidence: the fix is usually in the recorder or a forwarder){most}:")
        lines += [f"  - {rule} {RULES[rule].name}: {RULES[rule].fix}" for rule in failing[:NEXT_STEPS]]
        lines.append("  `telephony-conformance rules` explains every rule.")
    if skipped:
        off = ", ".join(skipped)
        lines.append(f"Not checked (--select/--ignore, or --severity off): {off}; nothing is claimed about them.")
    return lines


def skipped_files_line(skipped: list[str]) -> str | None:
    """What a folder scan left out, so that nothing is skipped silently."""
    if not skipped:
        return None
    names = ", ".join(display_path(p) for p in skipped[:SKIPPED_SHOWN])
    more = f" and {len(skipped) - SKIPPED_SHOWN:,} more" if len(skipped) > SKIPPED_SHOWN else ""
    return (
        f"Skipped {plural(len(skipped), 'file')} in the folders given, not named as captures "
        f"(*.ndjson, *.jsonl, optionally .gz): {names}{more}; name a file to check it."
    )


def summary_lines(totals: Totals, options: Options, severity_of: dict[str, Severity] | None = None) -> list[str]:
    """The closing summary: what was checked, what was found, the verdict and next steps."""
    severity_of = {rule: r.severity for rule, r in RULES.items()} | (severity_of or {})
    lines = counts_lines(totals, totals.captures)
    skipped = skipped_files_line(totals.skipped_files)
    if skipped:
        lines.append(skipped)
    lines.append(findings_line(totals, severity_of, options.failing_level == "warning"))
    if totals.known_findings:
        known = plural(totals.known_findings, "finding")
        lines.append(f"Known: {known} of these are listed in the baseline, and do not fail.")
    lines.append(coverage_line(totals))
    return lines + verdict_lines(totals, options, severity_of)


class TextReporter:
    """Each capture's findings grouped by rule, errors first: a header with the rule's count,
    the first ``options.max_findings`` findings one per line (``path:line: RULE severity:
    message``, with a hint line where the hint changes), and a count of the rest.

    Grouping holds at most ``max_findings`` findings per rule, so memory stays bounded.
    """

    def __init__(self, out: IO[str], options: Options) -> None:
        self.out = out
        self.options = options
        self.limit = options.max_findings or sys.maxsize
        self.shown: dict[str, list[Finding]] = {}
        self.severity_of: dict[str, Severity] = {}
        self.any_finding = False

    def start_capture(self, path: str) -> None:
        self.shown = {}

    def finding(self, path: str, finding: Finding) -> None:
        shown = self.shown.get(finding.rule)
        if shown is None:
            shown = self.shown[finding.rule] = []
            self.severity_of[finding.rule] = finding.severity
        if len(shown) < self.limit:
            shown.append(finding)

    def end_capture(self, summary: CaptureSummary) -> None:
        path = summary.path
        for rule in rule_group_order(self.shown, self.severity_of):
            self.any_finding = True
            shown = self.shown[rule]
            total = summary.findings_by_rule.get(rule, len(shown))
            known = RULES.get(rule)
            name, about = (f" {known.name}", f": {known.summary}") if known else ("", "")
            severity = self.severity_of[rule].value
            self.out.write(f"{location(path, 0)}: {rule}{name} ({plural(total, severity)}){about}\n")
            hint = None
            for finding in shown:
                self.out.write(format_finding(path, finding) + "\n")
                if finding.hint and finding.hint != hint:
                    self.out.write(f"    hint: {finding.hint}\n")
                hint = finding.hint
            if total > len(shown):
                self.out.write(
                    f"    … and {total - len(shown):,} more {rule} findings in {location(path, 0)} "
                    "(--max-findings 0 shows all; --format json lists them for tools)\n"
                )
            self.out.write("\n")
        self.shown = {}

    def close(self, totals: Totals) -> None:
        self.out.write("\n".join(summary_lines(totals, self.options, self.severity_of)) + "\n")
