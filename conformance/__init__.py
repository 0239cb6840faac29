"""telephony-conformance: protocol-contract checks for Daily's SIP/PSTN telephony events.

The public API:

* :func:`check_stream`, :class:`Options`, :class:`CaptureSummary`: check a capture.
* :class:`Finding`, :class:`Severity`, :data:`RULES`: what a check reports.
* :func:`schema_dir`, :data:`ACTIONS`: the JSON Schemas, the single source of truth.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .checker import CaptureSummary, check_stream
from .findings import Finding, Severity
from .options import Options
from .rules import RULES, Rule
from .schemas import ACTIONS, schema_dir, schema_version

try:
    __version__ = version("telephony-conformance")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"

__all__ = [
    "ACTIONS",
    "RULES",
    "CaptureSummary",
    "Finding",
    "Options",
    "Rule",
    "Severity",
    "__version__",
    "check_stream",
    "schema_dir",
    "schema_version",
]
