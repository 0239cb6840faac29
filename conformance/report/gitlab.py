"""GitLab Code Quality: the JSON array GitLab shows in a merge request's Code Quality widget.

One issue per finding: ``description``, ``check_name`` (the rule's id and name),
``fingerprint``, ``severity`` and ``location`` (the capture's path from the repository's
root, and the line). Streamed: each finding is written as it comes.

GitLab tells a merge request's new issues from the target branch's by ``fingerprint``, and
keeps only the first issue of a fingerprint, so fingerprints are unique within a report and
stable across recordings: the defect's fingerprint (:mod:`conformance.fingerprint`), the
capture's path, and the finding's number among the same defects of its capture.

Severities: an error is ``major`` (``critical`` for a capture that cannot be trusted as a
whole: C110 unreadable, C111 no telephony event), a warning ``minor``, and a known finding
(a baseline lists it) ``info``.
"""

from __future__ import annotations

import hashlib
from typing import IO

import orjson

from ..check.tally import CaptureSummary
from ..findings import Finding, Severity
from ..fingerprint import fingerprint
from ..options import Options
from ..rules import NO_TELEPHONY_EVENTS, RULES, UNREADABLE
from .base import Totals
from .paths import relative_path, repository_root

_CRITICAL = {UNREADABLE.id, NO_TELEPHONY_EVENTS.id}
#: Past this many distinct defects in one capture, a finding is numbered by its line instead
#: (unique all the same), to keep memory bounded on a capture of random defects.
_MAX_NUMBERED = 100_000


def severity(finding: Finding) -> str:
    """The Code Quality severity of a finding (see the module docstring)."""
    if finding.known is not None:
        return "info"
    if finding.severity is Severity.WARNING:
        return "minor"
    return "critical" if finding.rule in _CRITICAL else "major"


class GitlabReporter:
    """One Code Quality issue per finding, written as it comes."""

    def __init__(self, out: IO[str], options: Options) -> None:
        self.out = out
        self.root = repository_root()
        self.first = True
        self.shown_path = ""
        self.numbers: dict[str, int] = {}  # defect fingerprint -> findings of it so far, in this capture
        out.write("[")

    def start_capture(self, path: str) -> None:
        self.shown_path = relative_path(path, self.root)
        self.numbers = {}

    def finding(self, path: str, finding: Finding) -> None:
        defect = fingerprint(finding)
        number = self.numbers.get(defect, 0) + 1
        if number > 1 or len(self.numbers) < _MAX_NUMBERED:
            self.numbers[defect] = number
            unique = f"{defect}:{self.shown_path}:{number}"
        else:
            unique = f"{defect}:{self.shown_path}:line {finding.line}:{finding.pointer}"
        rule = RULES[finding.rule]
        description = f"{finding.rule} {finding.message_with_hint()}{finding.known_note()}"
        issue = {
            "description": description,
            "check_name": f"{rule.id} {rule.name}",
            "fingerprint": hashlib.sha256(unique.encode("utf-8", "surrogatepass")).hexdigest(),
            "severity": severity(finding),
            "location": {"path": self.shown_path, "lines": {"begin": max(finding.line, 1)}},
        }
        self.out.write(("\n" if self.first else ",\n") + orjson.dumps(issue).decode())
        self.first = False

    def end_capture(self, summary: CaptureSummary) -> None:
        pass

    def close(self, totals: Totals) -> None:
        self.out.write("\n]\n")
