"""The JSON report, for tools: one document (``schemas/report.schema.json``), written as
findings arrive."""

from __future__ import annotations

from typing import IO

import orjson

from .. import __version__
from ..check.tally import CaptureSummary
from ..escape import display_path
from ..findings import Finding
from ..options import Options
from ..schemas import schema_version
from .base import Totals
from .coverage import coverage_block


class JsonReporter:
    """One JSON document, streamed: a capture's findings are never all held at once."""

    @staticmethod
    def needs_coverage() -> bool:
        """The report carries each capture's coverage, fields included (``Options.coverage``)."""
        return True

    def __init__(self, out: IO[str], options: Options) -> None:
        self.out = out
        self.options = options
        self.first_capture = True
        self.first_finding = True
        head = {
            "tool": "telephony-conformance",
            "version": __version__,
            "schemaVersion": schema_version(),
            "options": {
                "strict": options.strict,
                "partial": options.partial,
                "select": list(options.select),
                "ignore": list(options.ignore),
                "allowEmpty": options.allow_empty,
                "severity": options.levels(),
                "failOn": options.failing_level,
                "requireActions": list(options.require_actions),
            },
        }
        self.out.write(orjson.dumps(head).decode()[:-1] + ',"captures":[')

    def start_capture(self, path: str) -> None:
        if not self.first_capture:
            self.out.write(",")
        self.first_capture = False
        self.first_finding = True
        self.out.write('{"path":' + orjson.dumps(display_path(path)).decode() + ',"findings":[')

    def finding(self, path: str, finding: Finding) -> None:
        if not self.first_finding:
            self.out.write(",")
        self.first_finding = False
        self.out.write(orjson.dumps(finding.as_dict()).decode())

    def end_capture(self, summary: CaptureSummary) -> None:
        counts = summary.as_dict()
        del counts["path"]
        counts["knownFindings"] = summary.known_findings
        counts["coverage"] = coverage_block(summary, fields=self.options.coverage)
        self.out.write("]," + orjson.dumps(counts).decode()[1:])

    def close(self, totals: Totals) -> None:
        self.out.write('],"summary":' + orjson.dumps(totals.as_dict()).decode() + "}\n")
