"""The counts of a check: one :class:`Tally` type that every stage adds to and every report reads.

Every physical line of a capture is accounted for:
``lines == blank_lines + rejected_lines + events``, and
``events == telephony_events + other_events + unknown_telephony_events``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..findings import NAME_LIMIT, Finding, Severity
from ..surfaces import ACTIONS, HANDLER_METHODS, SURFACES, WEBHOOK_TYPES

#: The names of the ten events on every surface: counted by name, always.
KNOWN_NAMES = frozenset((*ACTIONS, *WEBHOOK_TYPES, *HANDLER_METHODS.values()))
#: How many unknown telephony names (S204) are counted by name; the rest, and names longer
#: than :data:`~conformance.findings.NAME_LIMIT`, are counted together under
#: :data:`OTHER_NAMES`, so that a capture of random names cannot grow the report.
MAX_UNKNOWN_NAMES = 100
#: Where they are counted: not a telephony-looking name, so it never meets a real one.
OTHER_NAMES = "(other unknown names)"


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
    #: The known findings by rule id (counted in ``findings_by_rule`` too).
    known_by_rule: dict[str, int] = field(default_factory=dict)
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

    def count_finding(self, finding: Finding) -> None:
        """Count one finding reported: by severity and by rule (the pipeline does the same
        inline, for every finding of a check)."""
        if finding.severity is Severity.ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        self.findings_by_rule[finding.rule] = self.findings_by_rule.get(finding.rule, 0) + 1

    def count_unknown(self, name: str) -> None:
        """Count one event of an unknown telephony name (S204), by name while there are fewer
        than :data:`MAX_UNKNOWN_NAMES` of them, else under :data:`OTHER_NAMES`."""
        by_name = self.events_by_action
        if name in by_name:
            by_name[name] += 1
        elif len(name) <= NAME_LIMIT and _unknown_names(by_name) < MAX_UNKNOWN_NAMES:
            by_name[name] = 1
        else:
            by_name[OTHER_NAMES] = by_name.get(OTHER_NAMES, 0) + 1

    def add(self, more: Tally) -> None:
        """Add another tally's counts to this one's, the later one's unknown names folded as
        :meth:`count_unknown` folds them."""
        for counter in _COUNTERS:
            setattr(self, counter, getattr(self, counter) + getattr(more, counter))
        for name in _COUNTS_BY_NAME:
            counts: dict[str, int] = getattr(self, name)
            for key, n in getattr(more, name).items():
                counts[key] = counts.get(key, 0) + n
        mine = self.events_by_action
        room = MAX_UNKNOWN_NAMES - _unknown_names(mine)
        for key, n in more.events_by_action.items():
            if key in mine or key in KNOWN_NAMES or key == OTHER_NAMES:
                mine[key] = mine.get(key, 0) + n
            elif room > 0:
                mine[key] = n
                room -= 1
            else:
                mine[OTHER_NAMES] = mine.get(OTHER_NAMES, 0) + n


@dataclass(kw_only=True)
class RangeTally(Tally):
    """The tally of one byte range, checked in a worker process: it keeps every unknown name it
    meets (only cutting the long ones), since which ones the whole capture counts by name
    depends on the ranges before it; :meth:`Tally.add` folds them in capture order."""

    def count_unknown(self, name: str) -> None:
        key = name if len(name) <= NAME_LIMIT else OTHER_NAMES
        self.events_by_action[key] = self.events_by_action.get(key, 0) + 1


def _unknown_names(by_name: dict[str, int]) -> int:
    """How many unknown names ``by_name`` counts by name."""
    return len(by_name) - len(by_name.keys() & KNOWN_NAMES) - (OTHER_NAMES in by_name)


_COUNTERS = tuple(f.name for f in fields(Tally) if f.type == "int")
#: Counts by key summed as they are; ``events_by_action`` is folded apart (unknown names).
_COUNTS_BY_NAME = tuple(f.name for f in fields(Tally) if f.type == "dict[str, int]" and f.name != "events_by_action")


@dataclass
class CaptureSummary(Tally):
    """What one capture held and what was found in it."""

    path: str
    #: The "capture" of a baseline's stale entries (C113), which reports list as the baseline file.
    is_baseline: bool = False

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
