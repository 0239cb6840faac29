"""The pytest plugin: ``pytest --telephony-conformance PATH``. A thin shell over the checker.

Granularity: one test item per capture and rule (``captured.ndjson::S201 missing-required-field``),
so a million-event capture is ~20 items, ``-k S201`` or ``-k captured`` selects, and each
failing item lists the bad lines of its rule. Each capture is checked once per process,
lazily, when its first item runs (so ``-x`` stops early and xdist workers only check the
captures they were handed). The hooks delegate to a run object (:class:`CaptureRun`),
registered when captures are given.

When captures are given on the command line and no test paths are, only the captures are
checked: the project's own test files are not collected, so the command works in any
folder, with or without a conftest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import __version__, rules
from .check import CaptureScan, CaptureSummary, CaptureUnreadable, Tally, check_file, scan_paths
from .check.gc_tuning import collecting_less
from .escape import display_path, printable
from .findings import Finding
from .options import Options, add_check_options, options_from
from .pytest_support import GeneratedItemsPlugin, ReportedFailure, ReportingItem, TargetItems
from .report.text import counts_lines, findings_line, format_finding, plural, skipped_files_line
from .rules import RULES
from .schemas import schema_version

_RUN = "telephony-conformance-run"
_WARNINGS_SHOWN = 20  # warning lines the terminal summary lists; the rest are counted
_SUMMARY_PROPERTY = "telephony_conformance_summary"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("telephony-conformance", "Daily telephony event captures")
    group.addoption(
        "--telephony-conformance",
        action="append",
        default=[],
        metavar="PATH",
        help="check an NDJSON capture (a file or a folder of captures); repeatable",
    )
    add_check_options(group.addoption, prefix="telephony-")
    parser.addini(
        "telephony_conformance_captures",
        type="paths",
        default=[],
        help="captures checked when --telephony-conformance is not given",
    )


def pytest_configure(config: pytest.Config) -> None:
    given: list[str] = config.getoption("telephony_conformance")
    from_command_line = bool(given)
    if not given:
        given = [str(p) for p in config.getini("telephony_conformance_captures")]
    if not given:
        return
    try:
        options = options_from(
            config.getoption("telephony_strict"),
            config.getoption("telephony_partial"),
            config.getoption("telephony_select"),
            config.getoption("telephony_ignore"),
            config.getoption("telephony_allow_empty"),
            _jobs(config),
            config.getoption("telephony_max_findings"),
        )
        scan = scan_paths(given)
    except (ValueError, CaptureUnreadable) as exc:
        raise pytest.UsageError(f"telephony-conformance: {exc}") from None
    run = CaptureRun(options, scan, from_command_line)
    config.pluginmanager.register(run, _RUN)


def _jobs(config: pytest.Config) -> int:
    jobs: int = config.getoption("telephony_jobs")
    if jobs == 0 and os.environ.get("PYTEST_XDIST_WORKER"):
        return 1  # pytest-xdist already gives each core a worker: do not start more processes
    return jobs


@dataclass
class _CaptureResult:
    summary: CaptureSummary
    shown: dict[str, list[Finding]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # rule -> findings
    failing: dict[str, int] = field(default_factory=dict)  # rule -> findings that fail
    unreadable: str | None = None


class CaptureRun(GeneratedItemsPlugin):
    """A check of captures: one item per capture and enabled rule, each capture checked once
    per process; in the process that reports (the xdist controller too), the summaries."""

    prefix = "telephony-conformance"

    def __init__(self, options: Options, scan: CaptureScan, from_command_line: bool) -> None:
        super().__init__(targets_given=from_command_line)
        self.options = options
        self.scan = scan
        self.captures = scan.files
        self.max_shown = options.max_findings or sys.maxsize
        self.results: dict[str, _CaptureResult] = {}
        self.summaries: dict[str, dict[str, Any]] = {}  # for the terminal summary
        self.warnings: dict[str, list[str]] = {}  # capture -> its warning lines, for the summary
        self.sent: set[str] = set()  # captures whose summary this process has sent

    def header(self) -> str:
        flags = [name for name, on in (("strict", self.options.strict), ("partial", self.options.partial)) if on]
        extra = f", {', '.join(flags)}" if flags else ""
        return f"telephony-conformance: schemas {schema_version()}, {plural(len(self.captures), 'capture')}{extra}"

    def targets(self) -> Iterable[TargetItems]:
        enabled = self.options.enabled_rules()
        for path in self.captures:
            # Node ids show the path printable: pytest writes them to terminals and JUnit XML.
            yield display_path(path), [
                (CaptureRuleItem, f"{rule.id} {rule.name}", {"rule_id": rule.id, "capture": path})
                for rule in RULES.values()
                if rule.id in enabled
            ]

    def result(self, path: str) -> _CaptureResult:
        """One capture's findings, checked on first use."""
        if path not in self.results:
            try:
                with collecting_less():
                    self.results[path] = _check(path, self.options, self.max_shown, self.scan.unreadable.get(path))
            except MemoryError:
                pytest.exit(
                    f"telephony-conformance: out of memory checking {display_path(path)}; the check stopped",
                    returncode=pytest.ExitCode.INTERNAL_ERROR,
                )
            except Exception as exc:  # a bug of ours: one line that names it, not a failed test
                pytest.exit(
                    f"telephony-conformance: internal error checking {display_path(path)}: {type(exc).__name__}: "
                    f"{printable(str(exc))[:300]} (a bug in telephony-conformance {__version__})",
                    returncode=pytest.ExitCode.INTERNAL_ERROR,
                )
        return self.results[path]

    def summary_to_send(self, path: str) -> dict[str, Any] | None:
        """A capture's counts and warning lines for the process that reports, once per process
        (they travel in an item's user_properties, which JUnit XML also shows: printable)."""
        if path in self.sent:
            return None
        self.sent.add(path)
        result = self.result(path)
        warnings = [
            format_finding(path, f) for rule, shown in result.shown.items() if rule not in result.failing for f in shown
        ]
        counts = {**result.summary.as_dict(), "path": display_path(path)}
        return {"path": display_path(path), "summary": counts, "warnings": warnings[:_WARNINGS_SHOWN]}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Runs in the xdist controller too: capture summaries travel in user_properties.
        for name, value in report.user_properties:
            if name == _SUMMARY_PROPERTY and isinstance(value, dict):
                self.summaries[value["path"]] = value["summary"]
                self.warnings[value["path"]] = value["warnings"]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        shown = [display_path(path) for path in self.captures]
        summaries = [self.summaries[path] for path in dict.fromkeys(shown) if path in self.summaries]
        if not summaries:
            return
        totals = Tally()
        for summary in summaries:
            totals.add(CaptureSummary.from_dict(summary))
        terminalreporter.section("telephony-conformance")
        counts = counts_lines(totals, len(summaries))
        terminalreporter.write_line(" ".join(counts))
        skipped = skipped_files_line(self.scan.skipped)
        if skipped:
            terminalreporter.write_line(skipped)
        terminalreporter.write_line(findings_line(totals, _SEVERITY_OF, self.options.strict))
        warnings = [line for path in dict.fromkeys(shown) for line in self.warnings.get(path, ())]
        if warnings and not self.options.strict:
            terminalreporter.write_line("Warnings (doubtful, not violations; --telephony-strict makes them fail):")
            for line in warnings[:_WARNINGS_SHOWN]:
                terminalreporter.write_line(line)
            if totals.warnings > min(len(warnings), _WARNINGS_SHOWN):
                terminalreporter.write_line(
                    f"... and {totals.warnings - min(len(warnings), _WARNINGS_SHOWN):,} more warnings "
                    "(`telephony-conformance check` lists them all)"
                )
        skipped_rules = [rule for rule in RULES if rule not in self.options.enabled_rules()]
        if skipped_rules:
            terminalreporter.write_line(
                f"Not checked (--telephony-select/--telephony-ignore): {', '.join(skipped_rules)}; "
                "nothing is claimed about them."
            )


_SEVERITY_OF = {rule.id: rule.severity for rule in RULES.values()}


class CaptureRuleFailure(ReportedFailure):
    """Raised by a :class:`CaptureRuleItem` whose rule has failing findings."""


class CaptureRuleItem(ReportingItem):
    """Checks one rule over one capture: fails listing ``file:line: rule: message``."""

    def __init__(self, *, run: CaptureRun, rule_id: str, capture: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run
        self.rule_id = rule_id
        self.capture = capture

    def runtest(self) -> None:
        result = self.run.result(self.capture)
        summary = self.run.summary_to_send(self.capture)
        if summary is not None:
            self.user_properties.append((_SUMMARY_PROPERTY, summary))
        if result.unreadable is not None:
            # One failure says it (C110's item); the other rules were not checked, not passed.
            if self.rule_id == rules.UNREADABLE.id or rules.UNREADABLE.id not in self.run.options.enabled_rules():
                raise CaptureRuleFailure(result.unreadable)
            pytest.skip(f"not checked: {result.unreadable}")
        if result.failing.get(self.rule_id):
            raise CaptureRuleFailure(self._describe(result))

    def _describe(self, result: _CaptureResult) -> str:
        rule = RULES[self.rule_id]
        shown = result.shown.get(self.rule_id, [])
        total = result.counts[self.rule_id]
        lines = [f"{plural(total, 'finding')} of {rule.id} {rule.name}: {rule.summary}"]
        lines += [format_finding(self.capture, f) for f in shown]
        if total > len(shown):
            lines.append(
                f"... and {total - len(shown):,} more (--telephony-max-findings, or "
                f"`telephony-conformance check {self.capture}` lists them all)"
            )
        if rule.fix:
            lines.append(f"Where to fix: {rule.fix}")
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        return display_path(self.capture), None, f"{display_path(self.capture)}::{self.rule_id}"


def _check(path: str, options: Options, max_shown: int, unreadable: str | None) -> _CaptureResult:
    result = _CaptureResult(CaptureSummary(path))
    try:
        if unreadable is not None:  # a folder a scan could not read
            raise CaptureUnreadable(path, f"cannot read: {unreadable}")
        for finding in check_file(path, result.summary, options):
            rule = finding.rule
            result.counts[rule] = result.counts.get(rule, 0) + 1
            if options.fails(finding):
                result.failing[rule] = result.failing.get(rule, 0) + 1
            shown = result.shown.setdefault(rule, [])
            if len(shown) < max_shown:
                shown.append(finding)
    except CaptureUnreadable as exc:
        result.unreadable = f"telephony-conformance: {exc}"
        result.summary.errors += 1  # counted as the CLI counts it: C110 in the summary
        result.summary.findings_by_rule[rules.UNREADABLE.id] = 1
    return result


__all__ = ["CaptureRuleItem", "CaptureRun"]
