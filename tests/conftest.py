"""Shared fixtures for the core tests (tests/unit, tests/cli, tests/plugin).

Kept small and side-effect free: it only defines session-scoped fixtures (usable from
hypothesis tests), so the other test folders are unaffected by it.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.check import CaptureSummary, check_stream
from conformance.findings import Finding
from conformance.options import Options
from conformance.schemas import ACTIONS, load_schemas

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "captured.ndjson"
#: Marks a field to drop in :func:`make_event`.
DROP = object()


@dataclass
class Checked:
    """The result of checking one capture in memory."""

    findings: list[Finding]
    summary: CaptureSummary

    @property
    def rules(self) -> list[str]:
        return [f.rule for f in self.findings]

    @property
    def by_line(self) -> set[tuple[int, str]]:
        return {(f.line, f.rule) for f in self.findings}


def check_bytes(data: bytes | str, **options: Any) -> Checked:
    """Check ``data`` as a capture with :class:`Options` built from ``options``."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    summary = CaptureSummary("<memory>")
    findings = list(check_stream(io.BytesIO(data), summary, Options(**options)))
    s = summary
    assert s.lines == s.blank_lines + s.rejected_lines + s.events, "a line was not accounted for"
    return Checked(findings, summary)


def _base_events() -> dict[str, dict[str, Any]]:
    """The first documented example of each action (from its schema's ``examples``)."""
    schemas = load_schemas()
    return {a: schemas[f"{a}.schema.json"]["examples"][0] for a in ACTIONS}


_BASE = _base_events()


def make_event(action: str, **fields: Any) -> dict[str, Any]:
    """A valid documented event of ``action`` with ``fields`` overridden (``DROP`` removes one)."""
    event = copy.deepcopy(_BASE[action]) if action in _BASE else {"action": action}
    for name, value in fields.items():
        if value is DROP:
            event.pop(name, None)
        else:
            event[name] = value
    return event


def ndjson(*events: dict[str, Any] | str | bytes) -> bytes:
    """One line per event (dicts are dumped compactly; str/bytes lines are taken as they are)."""
    out = []
    for e in events:
        if isinstance(e, dict):
            out.append(json.dumps(e, separators=(",", ":")).encode())
        elif isinstance(e, str):
            out.append(e.encode())
        else:
            out.append(e)
    return b"".join(line + b"\n" for line in out)


@pytest.fixture(scope="session")
def check() -> Callable[..., Checked]:
    """``check(data, **options) -> Checked``; asserts every line is accounted for."""
    return check_bytes


@pytest.fixture(scope="session")
def event() -> Callable[..., dict[str, Any]]:
    """``event(action, **fields)``: a valid documented event with fields overridden."""
    return make_event


@pytest.fixture(scope="session")
def lines() -> Callable[..., bytes]:
    """``lines(*events)``: an NDJSON capture of events (dicts) or raw lines."""
    return ndjson


@pytest.fixture(scope="session")
def drop() -> object:
    """The marker that makes ``event(action, field=drop)`` remove a field."""
    return DROP


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample_capture() -> Path:
    return SAMPLE
