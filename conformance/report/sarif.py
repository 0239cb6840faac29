"""SARIF 2.1.0, the format GitHub code scanning (and other code-scanning tools) ingest.

One run, whose ``tool.driver.rules`` are the checker's rules, and one result per finding
kept: GitHub takes at most 25,000 results per run, so past that the most important are kept
(:mod:`.ranking`: new errors, then new warnings, then known findings, round-robin over the
rules) and the run says how many were cut, in ``properties`` and in a tool notification.

Each result is placed on its capture by a path relative to the repository's root
(:mod:`.paths`) and a region on its line. The region is the offending field's, from its key
to the end of its value, found while the check still held the line
(:mod:`conformance.check.locate`, ``Options.columns``); a finding of a whole line or event
(no field, a lifecycle finding, a line over 1 MiB) is placed at column 1, and the result's
``properties.column`` says which (``"field"`` or ``"line"``). ``partialFingerprints`` carry
the defect's fingerprint (:mod:`conformance.fingerprint`), the same when the defect is
recorded again at another line.
"""

from __future__ import annotations

from typing import IO, Any

import orjson

from .. import __version__
from ..check.gc_tuning import collector_paused
from ..check.tally import CaptureSummary
from ..findings import Finding, Severity
from ..fingerprint import fingerprint
from ..options import Options
from ..rules import RULES, Rule
from .base import Totals
from .paths import relative_uri, repository_root
from .ranking import MostImportant

#: GitHub code scanning's limit of results per run.
MAX_RESULTS = 25_000
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#: The partialFingerprints key of the defect's fingerprint, versioned with the way it is made.
FINGERPRINT_KEY = "telephonyConformanceDefect/v1"
_ROOT = "%SRCROOT%"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning"}
_RULE_INDEX = {rule_id: index for index, rule_id in enumerate(RULES)}
_MAX_OCCURRENCE_KEYS = 100_000


class SarifReporter:
    """Keeps the results to write (at most :data:`MAX_RESULTS`) and writes the log on close."""

    @staticmethod
    def needs_columns() -> bool:
        """Results are placed on their field's columns (``Options.columns``)."""
        return True

    def __init__(self, out: IO[str], options: Options, limit: int = MAX_RESULTS) -> None:
        self.out = out
        self.options = options
        self.kept = MostImportant(limit)
        self.offer = self.kept.offer
        self.captures: list[str] = []
        # How many findings of each (capture, rule, event, pointer) came so far: numbers each
        # result among the same defects, so that GitHub keeps them apart. Bounded: past
        # _MAX_OCCURRENCE_KEYS keys (a capture of random action names), new ones count as 1.
        self.occurrences: dict[tuple[str, str, str | None, str | None], int] = {}

    def start_capture(self, path: str) -> None:
        self.captures.append(path)

    def finding(self, path: str, finding: Finding) -> None:
        key = (path, finding.rule, finding.action, finding.pointer)
        occurrences = self.occurrences
        number = occurrences.get(key, 0) + 1
        if number > 1 or len(occurrences) < _MAX_OCCURRENCE_KEYS:
            occurrences[key] = number
        self.offer(path, finding, number)

    def end_capture(self, summary: CaptureSummary) -> None:
        pass

    def close(self, totals: Totals) -> None:
        with collector_paused():  # the log is a tree of new containers, with no cycles
            self._write()

    def _write(self) -> None:
        selected = self.kept.selected()
        root = repository_root()
        baseline_used = any(f.known is not None for _, f, _ in selected)
        artifacts = {path: _artifact(*relative_uri(path, root)) for path in self.captures}
        results = [
            _result(finding, number, artifacts[path], baseline_used)
            for path, finding, number in selected
        ]
        omitted = self.kept.omitted
        offered = sum(self.kept.offered)
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": "telephony-conformance",
                    "version": __version__,
                    "semanticVersion": __version__,
                    "rules": [_rule(rule, self.options) for rule in RULES.values()],
                }
            },
            "originalUriBaseIds": {_ROOT: {"uri": root.as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "invocations": [_invocation(offered, omitted, self.kept.total)],
            "properties": {"findings": offered, "resultsOmitted": omitted, "captures": len(self.captures)},
        }
        log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
        data = orjson.dumps(log, option=orjson.OPT_APPEND_NEWLINE)
        buffer = getattr(self.out, "buffer", None)
        if buffer is None:
            self.out.write(data.decode())
        else:  # SARIF is UTF-8: megabytes of it need not be decoded only to be encoded again
            self.out.flush()
            buffer.write(data)


def _invocation(offered: int, omitted: int, limit: int) -> dict[str, Any]:
    """The run's invocation; when results were cut, a notification that says how many."""
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if omitted:
        text = (
            f"{omitted:,} of {offered:,} findings are not in this log: GitHub code scanning takes {limit:,} results "
            "per run, so the most important were kept (errors first, and each rule's first findings before any "
            "rule's later ones); the JSON report (--report json=PATH) lists them all"
        )
        invocation["toolExecutionNotifications"] = [{"level": "warning", "message": {"text": text}}]
    return invocation


def _artifact(uri: str, inside: bool) -> dict[str, Any]:
    """A capture's ``artifactLocation``, from its URI (:func:`.paths.relative_uri`); one
    object shared by its results."""
    return {"uri": uri, "uriBaseId": _ROOT} if inside else {"uri": uri}


def _result(finding: Finding, number: int, artifact: dict[str, Any], baseline_used: bool) -> dict[str, Any]:
    """One finding as a SARIF result; ``number`` counts it among the same defects of its
    capture, ``artifact`` is its capture's location (:func:`_artifact`)."""
    line = finding.line if finding.line > 1 else 1  # line 0, the capture as a whole, is shown on its first line
    span = finding.span
    start, end = span if span else (1, 2)
    digest = fingerprint(finding)
    properties: dict[str, Any] = {"column": "field" if span else "line"}
    if finding.pointer is not None:
        properties["pointer"] = finding.pointer
    if finding.action is not None:
        properties["action"] = finding.action
    if finding.session_id is not None:
        properties["sessionId"] = finding.session_id
    rule = finding.rule
    result: dict[str, Any] = {
        "ruleId": rule,
        "ruleIndex": _RULE_INDEX[rule],
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message_with_hint()},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact,
                    "region": {"startLine": line, "startColumn": start, "endLine": line, "endColumn": end},
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: digest, "primaryLocationLineHash": f"{digest[:16]}:{number}"},
        "properties": properties,
    }
    known = finding.known
    if baseline_used:
        result["baselineState"] = "unchanged" if known is not None else "new"
    if known is not None:
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
        if known:
            suppression["justification"] = known
        result["suppressions"] = [suppression]
    return result


def _rule(rule: Rule, options: Options) -> dict[str, Any]:
    """A rule as SARIF describes it (``reportingDescriptor``), at the level this run gives it."""
    level = "none" if rule.id not in options.enabled_rules() else _LEVEL[options.severity_of(rule.id)]
    help_text = f"{rule.summary}\n\nWhy: {rule.rationale}\n\nExample: {rule.example}"
    help_markdown = f"{rule.summary}\n\n**Why:** {rule.rationale}\n\n**Example:** `{rule.example}`"
    return {
        "id": rule.id,
        "name": _pascal(rule.name),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["telephony", rule.name], "precision": "very-high"},
    }


def _pascal(name: str) -> str:
    """``missing-required-field`` -> ``MissingRequiredField``, as SARIF rule names are written."""
    return "".join(part.title() for part in name.split("-"))
