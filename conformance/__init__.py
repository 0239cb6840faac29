"""telephony-conformance: protocol-contract checks for Daily's SIP/PSTN telephony events.

The public API:

* :func:`check_stream`, :class:`Options`, :class:`CaptureSummary`: check a capture.
* :class:`Finding`, :class:`Severity`, :data:`RULES`: what a check reports.
* :func:`schema_dir`, :data:`ACTIONS`: the JSON Schemas, the single source of truth.
"""

from __future__ import annotations

from .check import CaptureSummary, check_stream
from .findings import Finding, Severity
from .options import Options
from .rules import RULES, Rule
from .schemas import schema_dir, schema_version
from .surfaces import ACTIONS

#: The package's version, the one place it is written: pyproject.toml reads it from here
#: (hatch), so that no check pays for importlib.metadata to learn it.
__version__ = "0.1.0"

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
