"""telephony-conformance: protocol-contract checks for Daily's SIP/PSTN telephony events.

The public API:

* :func:`check_stream`, :class:`Options`, :class:`CaptureSummary`: check a capture.
* :class:`Finding`, :class:`Severity`, :data:`RULES`: what a check reports.
* :func:`schema_dir`, :data:`ACTIONS`: the JSON Schemas, the single source of truth.
"""

from __future__ import annotations

from typing import Any

from .checker import CaptureSummary, check_stream
from .findings import Finding, Severity
from .options import Options
from .rules import RULES, Rule
from .schemas import ACTIONS, schema_dir, schema_version


def __getattr__(name: str) -> Any:
    # __version__ is looked up on first use: importlib.metadata costs a twentieth of a
    # second, and pytest imports this package at every start (the plugin's entry point).
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("telephony-conformance")
        except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
            found = "0.0.0"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
