"""JUnit XML, which any CI's test view reads: one test case per capture and rule.

The cases are the pytest plugin's items: one per enabled rule of each capture, named
``S201 missing-required-field``, with the capture's path (from the repository's root) as
``classname`` and ``file``, so that a viewer groups them by capture. A case fails when its
rule has a finding that fails the run; its ``failure`` holds the findings as text, the first
:data:`MAX_SHOWN` of them and the count of the rest. Findings that do not fail (warnings,
known ones) go to the case's ``system-out``, capped the same way. Memory is bounded by
captures times rules times :data:`MAX_SHOWN`, whatever the captures hold.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import IO

from ..check.tally import CaptureSummary
from ..findings import Finding
from ..options import Options
from ..rules import RULES, STALE_BASELINE_ENTRY
from .base import Totals
from .paths import relative_path, repository_root
from .text import format_finding

#: Findings written out per case and kind (failing, not failing); the rest are counted.
MAX_SHOWN = 20


@dataclass
class _Case:
    """One rule's findings in one capture: the first few of each kind, and how many."""

    failing: list[Finding] = field(default_factory=list)
    failing_count: int = 0
    other: list[Finding] = field(default_factory=list)
    other_count: int = 0


class JunitReporter:
    """Collects each capture's cases (bounded) and writes the XML document on close."""

    def __init__(self, out: IO[str], options: Options) -> None:
        self.out = out
        self.options = options
        # A case per rule this run checked: none passes for what was not looked for.
        checked = options.checked_rules()
        self.enabled = [rule for rule in RULES.values() if rule.id in checked]
        self.root = repository_root()
        self.suites: list[ET.Element] = []
        self.cases: dict[str, _Case] = {}
        self.failing = options.failing_severities()  # options.fails, asked of every finding
        self.started = time.monotonic()
        self.capture_started = self.started

    def start_capture(self, path: str) -> None:
        self.cases = {}
        self.capture_started = time.monotonic()

    def finding(self, path: str, finding: Finding) -> None:
        case = self.cases.get(finding.rule)
        if case is None:
            case = self.cases[finding.rule] = _Case()
        if finding.known is None and finding.severity in self.failing:
            case.failing_count += 1
            if len(case.failing) < MAX_SHOWN:
                case.failing.append(finding)
        else:
            case.other_count += 1
            if len(case.other) < MAX_SHOWN:
                case.other.append(finding)

    def end_capture(self, summary: CaptureSummary) -> None:
        shown = relative_path(summary.path, self.root)
        seconds = time.monotonic() - self.capture_started
        suite = ET.Element("testsuite", name=shown, timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"))
        props = ET.SubElement(suite, "properties")  # first, as the JUnit schema orders them
        for name, value in (("lines", summary.lines), ("events", summary.events), ("sessions", summary.sessions)):
            ET.SubElement(props, "property", name=name, value=str(value))
        failures = 0
        # A baseline's suite holds its C113 case alone, a capture's suite every other rule checked;
        # a rule with findings that is not among them (none today) still gets its case.
        stale_id = STALE_BASELINE_ENTRY.id
        listed = [r for r in self.enabled if (r.id == stale_id) == summary.is_baseline]
        rules = [*listed, *(RULES[r] for r in self.cases if r not in {rule.id for rule in listed})]
        for rule in rules:
            case = self.cases.get(rule.id, _Case())
            element = ET.SubElement(
                suite, "testcase", classname=shown, name=f"{rule.id} {rule.name}", file=shown, time="0"
            )
            if case.failing_count:
                failures += 1
                failure = ET.SubElement(
                    element,
                    "failure",
                    type=rule.id,
                    message=f"{case.failing_count:,} finding(s) of {rule.id} {rule.name}: {rule.summary}",
                )
                failure.text = _listed(summary.path, case.failing, case.failing_count)
            if case.other_count:
                out = ET.SubElement(element, "system-out")
                out.text = _listed(summary.path, case.other, case.other_count, what="that do not fail")
        suite.set("tests", str(len(rules)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        suite.set("time", f"{seconds:.3f}")
        self.suites.append(suite)

    def close(self, totals: Totals) -> None:
        suites = ET.Element("testsuites", name="telephony-conformance")
        for name in ("tests", "failures"):
            suites.set(name, str(sum(int(suite.get(name, "0")) for suite in self.suites)))
        suites.set("errors", "0")
        suites.set("time", f"{time.monotonic() - self.started:.3f}")
        suites.extend(self.suites)
        ET.indent(suites)
        self.out.write('<?xml version="1.0" encoding="utf-8"?>\n')
        self.out.write(ET.tostring(suites, encoding="unicode") + "\n")


def _listed(path: str, findings: list[Finding], count: int, what: str = "") -> str:
    """The findings as text lines, then how many more there are."""
    lines = [format_finding(path, f) for f in findings]  # a known one ends with its [known: reason]
    if count > len(findings):
        more = f" {what}" if what else ""
        rest = count - len(findings)
        lines.append(f"... and {rest:,} more{more} (the JSON report, --report json=PATH, lists them all)")
    return "\n".join(lines)
