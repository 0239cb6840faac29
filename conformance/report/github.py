"""GitHub Actions workflow commands (``::error file=…,line=…::…``), then the text summary."""

from __future__ import annotations

from ..escape import display_path
from ..findings import Finding, Severity
from .text import TextReporter


class GithubReporter(TextReporter):
    """One annotation per finding, then the text summary."""

    def finding(self, path: str, finding: Finding) -> None:
        kind = "error" if finding.severity is Severity.ERROR else "warning"
        props = f"file={_escape_property(display_path(path))}"
        if finding.line:
            props += f",line={finding.line}"
        props += f",title={_escape_property(finding.rule)}"
        message = finding.message + (f" (hint: {finding.hint})" if finding.hint else "")
        self.out.write(f"::{kind} {props}::{_escape_data(message)}\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
