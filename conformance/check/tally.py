"""The counts of a check: one :class:`Tally` type that every stage adds to and every report reads.

Every physical line of a capture is accounted for:
``lines == blank_lines + rejected_lines + events``, and
``events == telephony_events + other_events + unknown_telephony_events``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..surfaces import SURFACES


@dataclass(kw_only=True)
class Tally:
    """How the lines of a capture (or of a piece of one, or of several) were accounted for,
    and what was found in them."""

    lines: int = 0
    blank_lines: int = 0
    #: Lines that are not JSON objects, and objects that cannot be identified; each has a finding.
    rejected_lines: int = 0
    #: Non-telephony events (``participant-joined``, ``recording.started`` …): counted, never flagged.
    other_events: int = 0
    #: ``dialin*``/``dialout*`` names that are not one of the ten (S204).
    unknown_telephony_events: int = 0
    #: Telephony events by action, webhook type or daily-python handler, the unknown names
    #: (S204) among them.
    events_by_action: dict[str, int] = field(default_factory=dict)
    #: Events of every kind by the surface that delivered them (:data:`~conformance.surfaces.SURFACES`).
    events_by_surface: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    open_sessions: int = 0
    errors: int = 0
    warnings: int = 0
    #: Reported findings by rule id (only the rules enabled; each finding counted once).
    findings_by_rule: dict[str, int] = field(default_factory=dict)
    #: Findings a baseline lists (``--baseline``): reported, counted above too, never failing.
    known_findings: int = 0
    #: Coverage (:mod:`.coverage`), with ``Options.coverage``: per ``"action field"``, the
    #: events where a documented field is present and not null, and where it is null.
    fields_present: dict[str, int] = field(default_factory=dict)
    fields_null: dict[str, int] = field(default_factory=dict)
    #: With ``Options.coverage``, call sessions by lifecycle path (:func:`.coverage.path_name`).
    lifecycle_paths: dict[str, int] = field(default_factory=dict)

    @property
    def telephony_events(self) -> int:
        """Events of the ten telephony actions or webhook types."""
        return sum(self.events_by_action.values()) - self.unknown_telephony_events

    @property
    def events(self) -> int:
        return self.telephony_events + self.other_events + self.unknown_telephony_events

    def add(self, more: Tally) -> None:
        """Add another tally's counts to this one's."""
        for counter in _COUNTERS:
            setattr(self, counter, getattr(self, counter) + getattr(more, counter))
        for name in _COUNTS_BY_NAME:
            mine: dict[str, int] = getattr(self, name)
            for key, n in getattr(more, name).items():
                mine[key] = mine.get(key, 0) + n


_COUNTERS = tuple(f.name for f in fields(Tally) if f.type == "int")
_COUNTS_BY_NAME = tuple(f.name for f in fields(Tally) if f.type == "dict[str, int]")


@dataclass
class CaptureSummary(Tally):
    """What one capture held and what was found in it."""

    path: str

    @classmethod
    def from_dict(cls, counts: dict[str, Any]) -> CaptureSummary:
        """The summary :meth:`as_dict` describes (sent between processes as plain data)."""
        summary = cls(path=counts["path"])
        for name, key in _KEYS.items():
            value = counts[key]
            setattr(summary, name, dict(value) if isinstance(value, dict) else value)
        return summary

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's counts of one capture (``schemas/report.schema.json``)."""
        return {
            "path": self.path,
            "lines": self.lines,
            "blankLines": self.blank_lines,
            "rejectedLines": self.rejected_lines,
            "events": self.events,
            "telephonyEvents": self.telephony_events,
            "otherEvents": self.other_events,
            "unknownTelephonyEvents": self.unknown_telephony_events,
            "eventsByAction": dict(sorted(self.events_by_action.items())),
            "eventsBySurface": {surface: self.events_by_surface.get(surface, 0) for surface in SURFACES},
            "sessions": self.sessions,
            "openSessions": self.open_sessions,
            "errors": self.errors,
            "warnings": self.warnings,
            "findingsByRule": dict(sorted(self.findings_by_rule.items())),
        }


#: Each stored count of a summary and its key in :meth:`CaptureSummary.as_dict`.
_KEYS = {
    "lines": "lines",
    "blank_lines": "blankLines",
    "rejected_lines": "rejectedLines",
    "other_events": "otherEvents",
    "unknown_telephony_events": "unknownTelephonyEvents",
    "events_by_action": "eventsByAction",
    "events_by_surface": "eventsBySurface",
    "sessions": "sessions",
    "open_sessions": "openSessions",
    "errors": "errors",
    "warnings": "warnings",
    "findings_by_rule": "findingsByRule",
}
