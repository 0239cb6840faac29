"""Known findings: a baseline file, so that a team can switch the checker on against an old
capture without failing on day one, and see the file shrink as defects are fixed.

``--write-baseline FILE`` writes today's findings, one entry per distinct defect;
``--baseline FILE`` reads them back:

* a finding that an entry matches is **known**: it is reported as such and never fails;
* a finding no entry matches is **new**, and fails as usual;
* an entry that matches no finding of the run is **stale**, a ``C113`` finding at its line
  of the baseline file, which fails the run, so that an entry does not outlive its defect.

Matching (:mod:`conformance.fingerprint`): an entry matches a finding with the same rule,
event name (``event``: an action, webhook type or daily-python handler; ``""`` for none),
JSON pointer (``""`` for none) and kind of defect (the message with its values blanked).
Never the line, the capture, the session id, a timestamp or any other value that changes from
call to call: the same defect in a capture recorded again, in another file, matches. ``count``
(how many findings the entry had when written) is for people; any number of findings match.

The file is JSON, one entry per line so that a diff shows what changed, each with a
``reason`` for people (empty when written; a reason carries over when the file is written
again). Its format is checked when read: an unknown key, a rule that does not exist or a
value of the wrong type is an error naming the file, the entry and the key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import rules
from .check.tally import CaptureSummary, Tally
from .escape import display_path
from .findings import Finding
from .fingerprint import defect_key
from .options import Options

#: The baseline file format's version.
FORMAT_VERSION = 1
_ENTRY_KEYS = {"rule": str, "event": str, "pointer": str, "kind": str, "count": int, "reason": str}
_REQUIRED = ("rule", "event", "pointer", "kind")
_ABOUT = (
    "Known findings of telephony-conformance: each entry matches findings by rule, event, pointer and kind "
    "(never by line or value). A matched finding does not fail; an entry that matches nothing fails as stale "
    "(C113). Write a reason for each; see docs/ci.md."
)

#: A defect: ``(rule, event, pointer, kind)``.
Key = tuple[str, str, str, str]


class BaselineError(Exception):
    """The baseline file cannot be used; the message names the file and what is wrong."""


@dataclass
class Entry:
    """One known defect."""

    rule: str
    event: str
    pointer: str
    kind: str
    count: int = 0
    reason: str = ""
    line: int = 0  # where it is in its file (0: not known)
    matched: int = 0  # findings of this run it matched

    @property
    def key(self) -> Key:
        return self.rule, self.event, self.pointer, self.kind

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "event": self.event,
            "pointer": self.pointer,
            "kind": self.kind,
            "count": self.count,
            "reason": self.reason,
        }


@dataclass
class Baseline:
    """The known defects of a baseline file, and which of them this run has met."""

    path: str
    entries: dict[Key, Entry] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str) -> Baseline:
        """Read a baseline file; :class:`BaselineError` says what is wrong with it."""
        shown = display_path(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BaselineError(f"baseline {shown}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BaselineError(f"baseline {shown}:{exc.lineno}: not JSON: {exc.msg} (column {exc.colno})") from None
        entries = document.get("entries") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise BaselineError(f"baseline {shown}: not a baseline file (an object with an 'entries' list)")
        lines = _entry_lines(text)
        baseline = cls(path)
        for index, raw in enumerate(entries):
            entry = _entry(raw, f"baseline {shown}: entry {index + 1}")
            entry.line = lines[index] if index < len(lines) else 0
            baseline.entries.setdefault(entry.key, entry)
        return baseline

    def mark(self, finding: Finding) -> Finding:
        """The finding, marked known (with its entry's reason) when an entry matches it."""
        entry = self.entries.get(defect_key(finding))
        if entry is None:
            return finding
        entry.matched += 1
        return replace(finding, known=entry.reason)

    def stale(self) -> list[Entry]:
        """The entries that no finding of this run matched, in file order."""
        return sorted((e for e in self.entries.values() if not e.matched), key=lambda e: e.line)

    def stale_findings(self, options: Options) -> list[Finding]:
        """A ``C113`` finding per stale entry, at its line of the baseline file, with the
        severity ``options`` give the rule (none when they turn it off)."""
        rule = rules.STALE_BASELINE_ENTRY
        if rule.id not in options.enabled_rules():
            return []
        severity = options.severity_of(rule.id)
        # An entry of a rule this run did not look for (--select, --severity off, L302 under
        # --partial) is not stale: its defect may be there still.
        checked = options.checked_rules()
        out = []
        for entry in self.stale():
            if entry.rule not in checked:
                continue
            what = f"{entry.rule} {entry.event or '(no event)'} {entry.pointer or '(no field)'}: {entry.kind}"
            finding = rule.finding(
                entry.line,
                f"known finding {what} no longer occurs in any capture checked; remove its entry",
                action=entry.event or None,
            )
            out.append(replace(finding, severity=severity) if severity is not finding.severity else finding)
        return out


class BaselineWriter:
    """Collects a run's findings by defect, and writes them as a baseline file; reasons are
    kept from ``previous`` entries of the same defect."""

    def __init__(self, path: str, previous: Baseline | None = None) -> None:
        self.path = path
        self.previous = previous
        self.counts: dict[Key, int] = {}

    def add(self, finding: Finding) -> Finding:
        """Count one finding, and return it marked known (writing a baseline accepts it)."""
        key = defect_key(finding)
        self.counts[key] = self.counts.get(key, 0) + 1
        known = self.previous.entries.get(key) if self.previous is not None else None
        return replace(finding, known=known.reason if known is not None else "")

    def write(self) -> None:
        """Write the file (sorted by rule, event, pointer and kind); ``BaselineError`` when it
        cannot be written."""
        entries = []
        for key in sorted(self.counts):
            before = self.previous.entries.get(key) if self.previous is not None else None
            entry = Entry(*key, count=self.counts[key], reason=before.reason if before is not None else "")
            entries.append(json.dumps(entry.as_dict(), ensure_ascii=False))
        head = json.dumps({"tool": "telephony-conformance", "version": FORMAT_VERSION, "about": _ABOUT})[:-1]
        body = ",\n".join("    " + entry for entry in entries)
        text = head + ',\n  "entries": [\n' + body + ("\n" if entries else "") + "  ]\n}\n"
        try:
            Path(self.path).write_text(text, encoding="utf-8")
        except OSError as exc:
            why = exc.strerror or exc
            raise BaselineError(f"cannot write the baseline {display_path(self.path)}: {why}") from None


def _entry(raw: Any, where: str) -> Entry:
    """One entry of the file, checked."""
    if not isinstance(raw, dict):
        raise BaselineError(f"{where}: not an object")
    for key, value in raw.items():
        kind = _ENTRY_KEYS.get(key)
        if kind is None:
            raise BaselineError(f"{where}: unknown key {key!r} (known: {', '.join(_ENTRY_KEYS)})")
        if type(value) is not kind:
            raise BaselineError(f"{where}: {key!r} must be a {'string' if kind is str else 'whole number'}")
    for key in _REQUIRED:
        if key not in raw:
            raise BaselineError(f"{where}: {key!r} is missing")
    if raw["rule"] not in rules.RULES:
        raise BaselineError(f"{where}: unknown rule {raw['rule']!r}")
    return Entry(**{key: raw[key] for key in _ENTRY_KEYS if key in raw})


def _entry_lines(text: str) -> list[int]:
    """The line of each entry, in order, where each entry begins a line of its own with its
    ``"rule"`` key (as written); a file laid out otherwise gets its entries at line 0."""
    return [number for number, line in enumerate(text.splitlines(), 1) if line.lstrip().startswith('{"rule":')]


class KnownFindings:
    """What the shells (CLI, pytest plugin) do with ``--baseline`` and ``--write-baseline``:
    mark each finding known or not as it streams by, count the known ones, and at the end
    report the stale entries and write the new file.

    Writing a baseline accepts today's findings: while one is written, every finding is known
    (the run passes), and entries of a ``--baseline`` read at the same time keep their reason
    when their defect is still there and are dropped, not reported, when it is not.
    """

    def __init__(self, baseline: Baseline | None = None, writer: BaselineWriter | None = None) -> None:
        self.baseline = baseline
        self.writer = writer

    @classmethod
    def open(cls, read: str | None, write: str | None) -> KnownFindings:
        """From the two options' paths (either may be ``None``); ``BaselineError`` when the file
        to read is not a usable baseline."""
        baseline = Baseline.load(read) if read else None
        return cls(baseline, BaselineWriter(write, baseline) if write else None)

    def marked(self, findings: Iterable[Finding], summary: Tally) -> Iterator[Finding]:
        """``findings``, the known ones marked (and counted in ``summary.known_findings``)."""
        mark = self.writer.add if self.writer is not None else self.baseline.mark if self.baseline else None
        if mark is None:
            yield from findings
            return
        for finding in findings:
            finding = mark(finding)
            if finding.known is not None:
                summary.known_findings += 1
                summary.known_by_rule[finding.rule] = summary.known_by_rule.get(finding.rule, 0) + 1
            yield finding

    def finish(self, options: Options, judge: bool = True) -> tuple[CaptureSummary, list[Finding]] | None:
        """Write the new baseline, if one is asked for (``BaselineError`` when it cannot be);
        then the stale entries of the one read, as the findings of a capture of their own (the
        baseline file, whose lines they name), or ``None`` when there are none, or when not to
        ``judge`` them (a capture could not be read whole: its findings are unknown)."""
        if self.writer is not None:
            self.writer.write()
            return None
        if self.baseline is None or not judge:
            return None
        stale = self.baseline.stale_findings(options)
        if not stale:
            return None
        summary = CaptureSummary(self.baseline.path, is_baseline=True)
        for finding in stale:
            summary.count_finding(finding)
        return summary, stale
