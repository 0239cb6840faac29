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

import functools
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import __version__, rules
from .baseline import BaselineError, KnownFindings
from .check import CaptureScan, CaptureSummary, CaptureUnreadable, Tally, check_file, scan_paths
from .check.gc_tuning import collecting_less
from .config import ConfigError, merged
from .config import load_nearest as load_config
from .escape import display_path, printable
from .findings import Finding, Severity
from .options import Options, add_check_options, flag_values, options_from, with_defaults
from .pytest_support import GeneratedItemsPlugin, ReportedFailure, ReportingItem, TargetItems
from .report.text import counts_lines, findings_line, format_finding, plural, skipped_files_line
from .rules import RULES, Rule
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
    group.addoption(
        "--telephony-baseline",
        metavar="FILE",
        default=None,
        help="known findings (written by telephony-conformance check --write-baseline): they do not fail; "
        "an entry that matches no finding of the run does",
    )
    parser.addini(
        "telephony_conformance_captures",
        type="paths",
        default=[],
        help="captures checked when --telephony-conformance is not given",
    )


def pytest_configure(config: pytest.Config) -> None:
    given: list[str] = config.getoption("telephony_conformance")
    from_command_line = bool(given)
    try:
        settings_file = load_config(config.invocation_params.dir)
    except ConfigError as exc:
        raise pytest.UsageError(f"telephony-conformance: {exc}") from None
    if not given:
        given = [str(p) for p in config.getini("telephony_conformance_captures")]
    if not given:
        given = settings_file.get("captures") or []
    if not given:
        return
    try:
        settings = with_defaults(merged(flag_values(config.getoption, "telephony-"), settings_file))
        settings["jobs"] = _jobs(settings["jobs"])
        options = options_from(**settings)
        known = KnownFindings.open(config.getoption("telephony_baseline") or settings_file.get("baseline"), None)
        scan = scan_paths(given)
    except (ValueError, CaptureUnreadable, BaselineError) as exc:
        raise pytest.UsageError(f"telephony-conformance: {exc}") from None
    run = CaptureRun(options, scan, from_command_line, known)
    config.pluginmanager.register(run, _RUN)


def _jobs(jobs: int) -> int:
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
    matched: list[tuple[str, ...]] = field(default_factory=list)  # baseline entries its findings matched


class CaptureRun(GeneratedItemsPlugin):
    """A check of captures: one item per capture and enabled rule, each capture checked once
    per process; in the process that reports (the xdist controller too), the summaries."""

    prefix = "telephony-conformance"

    def __init__(
        self, options: Options, scan: CaptureScan, from_command_line: bool, known: KnownFindings | None = None
    ) -> None:
        super().__init__(targets_given=from_command_line)
        self.options = options
        self.known = known or KnownFindings()
        # The baseline entries each capture's findings matched, from every process (xdist).
        self.matched: set[tuple[str, ...]] = set()
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
        # No item claims a pass for what was not looked for (Options.checked_rules), nor for
        # C113, which belongs to the baseline, not to a capture (the run fails on it, see below).
        enabled = self.options.checked_rules() - {rules.STALE_BASELINE_ENTRY.id}
        for path in self.captures:
            # Node ids show the path printable: pytest writes them to terminals and JUnit XML.
            yield display_path(path), [
                (CaptureRuleItem, f"{rule.id} {rule.name}", {"rule_id": rule.id, "capture": path})
                for rule in RULES.values()
                if rule.id in enabled
            ]
        baseline = self.known.baseline
        if baseline is not None and rules.STALE_BASELINE_ENTRY.id in self.options.enabled_rules():
            rule = rules.STALE_BASELINE_ENTRY
            yield display_path(baseline.path), [(StaleBaselineItem, f"{rule.id} {rule.name}", {})]

    def result(self, path: str) -> _CaptureResult:
        """One capture's findings, checked on first use."""
        if path not in self.results:
            try:
                with collecting_less():
                    self.results[path] = _check(
                        path, self.options, self.max_shown, self.scan.unreadable.get(path), self.known
                    )
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
            format_finding(path, f)
            for rule, shown in result.shown.items()
            if rule not in result.failing
            for f in shown
            if f.severity is Severity.WARNING and f.known is None  # known errors are not doubtful ones
        ]
        counts = {**result.summary.as_dict(), "path": display_path(path)}
        return {
            "path": display_path(path),
            "summary": counts,
            "warnings": warnings[:_WARNINGS_SHOWN],
            "baseline": [list(key) for key in result.matched],
        }

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Runs in the xdist controller too: capture summaries travel in user_properties.
        for name, value in report.user_properties:
            if name == _SUMMARY_PROPERTY and isinstance(value, dict):
                self.summaries[value["path"]] = value["summary"]
                self.warnings[value["path"]] = value["warnings"]
                self.matched.update(tuple(key) for key in value.get("baseline", ()))

    @functools.cached_property
    def stale(self) -> list[Finding]:
        """The baseline's stale entries (C113), once every capture has been checked (asked at
        the session's end: by its exit status, then its summary)."""
        if not self.summaries.keys() >= {display_path(path) for path in self.captures}:
            return []
        unread = any(summary.get("findingsByRule", {}).get(rules.UNREADABLE.id) for summary in self.summaries.values())
        return [] if unread else self._stale_of(self.matched)

    def stale_checking_all(self) -> list[Finding]:
        """The baseline's stale entries, every capture checked in this process first (each
        once: an item of a capture checked here already did it; under pytest-xdist, the
        captures other processes checked are checked here again)."""
        results = [self.result(path) for path in self.captures]
        # A capture not read whole (C110) may hold a known defect: no entry is judged stale.
        if any(result.summary.findings_by_rule.get(rules.UNREADABLE.id) for result in results):
            return []
        return self._stale_of({tuple(key) for result in results for key in result.matched})

    def _stale_of(self, matched: set[tuple[str, ...]]) -> list[Finding]:
        baseline = self.known.baseline
        if baseline is None:
            return []
        for key, entry in baseline.entries.items():
            entry.matched = int(key in matched)
        return baseline.stale_findings(self.options)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if any(self.options.fails(finding) for finding in self.stale) and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

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
        severity_of = {rule: self.options.severity_of(rule) for rule in RULES}  # --telephony-severity too
        terminalreporter.write_line(findings_line(totals, severity_of, self.options.failing_level == "warning"))
        warnings = [line for path in dict.fromkeys(shown) for line in self.warnings.get(path, ())]
        if warnings and self.options.failing_level != "warning":
            terminalreporter.write_line("Warnings (doubtful, not violations; --telephony-strict makes them fail):")
            for line in warnings[:_WARNINGS_SHOWN]:
                terminalreporter.write_line(line)
            if totals.warnings > min(len(warnings), _WARNINGS_SHOWN):
                terminalreporter.write_line(
                    f"... and {totals.warnings - min(len(warnings), _WARNINGS_SHOWN):,} more warnings "
                    "(`telephony-conformance check` lists them all)"
                )
        stale = self.stale
        if stale:
            terminalreporter.write_line(f"Stale baseline entries ({plural(len(stale), 'entry', 'entries')}):")
            for finding in stale:
                terminalreporter.write_line(format_finding(self.known.baseline.path, finding), red=True)  # type: ignore[union-attr]
        skipped_rules = [rule for rule in RULES if rule not in self.options.enabled_rules()]
        if skipped_rules:
            terminalreporter.write_line(
                f"Not checked (--telephony-select/--telephony-ignore, or severity off): {', '.join(skipped_rules)}; "
                "nothing is claimed about them."
            )


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
            shown = result.shown.get(self.rule_id)
            raise CaptureRuleFailure(self._describe(result), line=shown[0].line if shown else None)

    def _describe(self, result: _CaptureResult) -> str:
        total = result.counts[self.rule_id]
        more = f"(--telephony-max-findings, or `telephony-conformance check {self.capture}` lists them all)"
        shown = result.shown.get(self.rule_id, [])
        return _failure_text(RULES[self.rule_id], plural(total, "finding"), self.capture, shown, total, more)

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        return display_path(self.capture), None, f"{display_path(self.capture)}::{self.rule_id}"


def _failure_text(rule: Rule, counted: str, path: str, shown: list[Finding], total: int, more: str) -> str:
    """A failing item's report: ``counted`` findings of ``rule``, those ``shown`` of ``path``,
    how many more there are (and where: ``more``), and where to fix them."""
    lines = [f"{counted} of {rule.id} {rule.name}: {rule.summary}"]
    lines += [format_finding(path, f) for f in shown]
    if total > len(shown):
        lines.append(f"... and {total - len(shown):,} more {more}")
    if rule.fix:
        lines.append(f"Where to fix: {rule.fix}")
    return "\n".join(lines)


class StaleBaselineItem(ReportingItem):
    """Checks that every entry of the baseline still matches a finding (C113): fails listing
    the stale ones, so that JUnit and the short summary show them as CaptureRuleItems do."""

    def __init__(self, *, run: CaptureRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run

    def runtest(self) -> None:
        failing = [f for f in self.run.stale_checking_all() if self.run.options.fails(f)]
        if failing:
            baseline = self.run.known.baseline.path  # type: ignore[union-attr]
            counted = plural(len(failing), "entry", "entries")
            shown = failing[: self.run.max_shown]
            rule, more = rules.STALE_BASELINE_ENTRY, "(--telephony-max-findings)"
            text = _failure_text(rule, counted, baseline, shown, len(failing), more)
            raise CaptureRuleFailure(text, line=failing[0].line)

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        shown = display_path(self.run.known.baseline.path)  # type: ignore[union-attr]
        return shown, None, f"{shown}::{rules.STALE_BASELINE_ENTRY.id}"


def _check(
    path: str, options: Options, max_shown: int, unreadable: str | None, known: KnownFindings
) -> _CaptureResult:
    result = _CaptureResult(CaptureSummary(path))
    try:
        if unreadable is not None:  # a folder a scan could not read
            raise CaptureUnreadable(path, f"cannot read: {unreadable}")
        for finding in known.marked(check_file(path, result.summary, options), result.summary):
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
    if known.baseline is not None:
        result.matched = [key for key, entry in known.baseline.entries.items() if entry.matched]
    return result


__all__ = ["CaptureRuleItem", "CaptureRun", "StaleBaselineItem"]
