"""Every rule has a failing capture, and the clean captures pass.

``tests/data/invalid/<RULE>-<what>@<lines>.ndjson[.gz]`` must yield ``RULE`` at exactly the
lines after ``@`` (``+``-separated; ``0`` is the capture as a whole) and no other rule.
``tests/data/valid/*`` must yield no finding at all, also under ``strict``.

All captures are checked with a 64 KiB line limit, so that the ``C107`` capture stays small.
``S205`` only exists under ``strict``, so its captures are checked strictly; ``C112`` only
with ``--require-actions`` (dialout-answered, which its capture lacks).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.check import CaptureSummary, check_file
from conformance.findings import Finding
from conformance.options import Options
from conformance.rules import RULES

DATA = Path(__file__).resolve().parent.parent / "data"
INVALID = sorted((DATA / "invalid").iterdir())
VALID = sorted((DATA / "valid").iterdir())
NAME = re.compile(r"^(?P<rule>[CSL][0-9]{3})-[a-z0-9-]+@(?P<lines>[0-9]+(?:\+[0-9]+)*)\.(?:ndjson|jsonl)(?:\.gz)?$")
LIMIT = 64 * 1024
STRICT_ONLY = {"S205"}
#: The options under which a rule's captures are checked, for rules that only exist with them.
OPTIONS_FOR: dict[str, dict[str, object]] = {"C112": {"require_actions": ("dialout-answered",)}}
#: Rules of a run, not of a capture: a baseline's stale entry (tests/gates/test_baseline.py).
OF_A_RUN = {"C113"}


def _run(path: Path, **options: object) -> tuple[list[Finding], CaptureSummary]:
    summary = CaptureSummary(str(path))
    findings = list(check_file(str(path), summary, Options(max_line_bytes=LIMIT, **options)))  # type: ignore[arg-type]
    s = summary
    assert s.lines == s.blank_lines + s.rejected_lines + s.events
    return findings, summary


def _expected(path: Path) -> tuple[str, set[int]]:
    match = NAME.match(path.name)
    assert match, f"{path.name}: invalid captures are named RULE-what@LINE[+LINE…].ndjson"
    return match["rule"], {int(n) for n in match["lines"].split("+")}


def test_the_data_folders_are_not_empty() -> None:
    assert len(INVALID) >= len(RULES)
    assert len(VALID) >= 5


def test_every_rule_has_a_failing_capture() -> None:
    covered = {_expected(p)[0] for p in INVALID}
    assert covered == set(RULES) - OF_A_RUN, f"rules without a failing capture: {sorted(set(RULES) - covered)}"


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_invalid_capture_yields_its_rule_at_its_lines_and_nothing_else(path: Path) -> None:
    rule, lines = _expected(path)
    findings, _ = _run(path, strict=rule in STRICT_ONLY, **OPTIONS_FOR.get(rule, {}))
    assert {f.line for f in findings if f.rule == rule} == lines, [(f.line, f.rule, f.message) for f in findings]
    others = [(f.line, f.rule, f.message) for f in findings if f.rule != rule]
    assert not others, f"{path.name} also triggers other rules: {others}"
    for f in findings:
        assert f.severity is RULES[rule].severity
        assert f.message.strip()


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_ignoring_the_rule_silences_the_invalid_capture(path: Path) -> None:
    rule, _ = _expected(path)
    findings, summary = _run(path, strict=rule in STRICT_ONLY, ignore=(rule,), **OPTIONS_FOR.get(rule, {}))
    assert findings == []
    assert summary.errors == summary.warnings == 0


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_valid_capture_yields_no_finding(path: Path, strict: bool) -> None:
    findings, summary = _run(path, strict=strict)
    assert findings == [], [(f.line, f.rule, f.message) for f in findings]
    assert summary.telephony_events > 0
    assert summary.rejected_lines == 0
    assert summary.errors == summary.warnings == 0


@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_valid_capture_also_passes_under_partial(path: Path) -> None:
    findings, _ = _run(path, partial=True, strict=True)
    assert findings == []


def test_valid_lines_counted_as_the_file_has_them() -> None:
    path = DATA / "valid" / "crlf-blank-lines-no-final-newline.ndjson"
    raw = path.read_bytes()
    assert not raw.endswith(b"\n") and b"\r\n" in raw
    _, summary = _run(path)
    assert summary.lines == raw.count(b"\n") + 1
    assert summary.blank_lines == 4
    assert summary.other_events == 1
    assert summary.telephony_events == 3
