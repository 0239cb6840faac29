"""Adopting the checker on an old capture: --write-baseline, then --baseline; the same defects
recorded again pass, a fixed one leaves a stale entry that fails, a new one fails."""

from __future__ import annotations

import gzip
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from _gates import REPO, assert_usage_error, run_cli, sarif_validator
from _recordings import DEFECTS, recording
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import rules
from conformance.fingerprint import defect_kind, fingerprint


def _json(done: Any) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture
def adopted(tmp_path: Path) -> tuple[Path, Path]:
    """A recorded capture with 40 defects, and the baseline written from it."""
    capture = tmp_path / "recorded.ndjson"
    capture.write_text(recording(seed=1))
    baseline = tmp_path / "telephony-baseline.json"
    done = run_cli("check", str(capture), "--write-baseline", str(baseline))
    assert done.returncode == 0, done.stdout  # writing a baseline accepts today's findings
    return capture, baseline


def test_write_baseline_writes_one_entry_per_defect_with_an_empty_reason(adopted: tuple[Path, Path]) -> None:
    capture, baseline = adopted
    document = json.loads(baseline.read_text())
    entries = document["entries"]
    assert len(entries) == len(DEFECTS)
    assert sum(e["count"] for e in entries) == 40
    assert all(e["reason"] == "" for e in entries)
    assert all(set(e) == {"rule", "event", "pointer", "kind", "count", "reason"} for e in entries)
    # One entry a line, so that a diff shows what changed.
    assert sum(line.lstrip().startswith('{"rule":') for line in baseline.read_text().splitlines()) == len(DEFECTS)
    again = _json(run_cli("check", str(capture), "--baseline", str(baseline), "--format", "json"))
    assert again["summary"]["passed"] is True
    findings = again["captures"][0]["findings"]
    assert len(findings) == 40 and all(f["known"] == "" for f in findings)
    assert again["captures"][0]["knownFindings"] == 40


def test_the_same_defects_recorded_again_pass(adopted: tuple[Path, Path], tmp_path: Path) -> None:
    _, baseline = adopted
    for seed in (2, 3):  # other session ids, timestamps, lines and call order
        capture = tmp_path / f"recorded-again-{seed}.ndjson"
        capture.write_text(recording(seed=seed, copies=3))
        done = run_cli("check", str(capture), "--baseline", str(baseline))
        assert done.returncode == 0, done.stdout
        assert "[known]" in done.stdout


def test_fixing_a_defect_makes_its_entry_stale(adopted: tuple[Path, Path], tmp_path: Path) -> None:
    _, baseline = adopted
    capture = tmp_path / "fixed.ndjson"
    capture.write_text(recording(seed=4, fixed=frozenset({"stopped-without-provider"})))
    done = run_cli("check", str(capture), "--baseline", str(baseline), "--format", "json")
    assert done.returncode == 1
    report = _json(done)
    stale = report["captures"][-1]
    assert stale["path"] == str(baseline)
    (finding,) = stale["findings"]
    assert finding["rule"] == "C113" and finding["severity"] == "error"
    assert "S201 dialout-stopped" in finding["message"]
    entry_line = baseline.read_text().splitlines()[finding["line"] - 1]
    assert '"pointer": "/provider"' in entry_line  # the line of the stale entry
    # The stale rule can be turned down like any other.
    assert run_cli("check", str(capture), "--baseline", str(baseline), "--severity", "C113=warning").returncode == 0


def test_a_new_defect_fails(adopted: tuple[Path, Path], tmp_path: Path) -> None:
    _, baseline = adopted
    capture = tmp_path / "new.ndjson"
    capture.write_text(recording(seed=5) + '{"action":"dialin-ready","callClientId":"c","provider":"daily"}\n')
    done = run_cli("check", str(capture), "--baseline", str(baseline), "--format", "json")
    assert done.returncode == 1
    new = [f for f in _json(done)["captures"][0]["findings"] if "known" not in f]
    assert [(f["rule"], f["pointer"]) for f in new] == [("S201", "/sipEndpoint")]


def test_reasons_carry_over_when_the_baseline_is_written_again(adopted: tuple[Path, Path], tmp_path: Path) -> None:
    _, baseline = adopted
    document = json.loads(baseline.read_text())
    for entry in document["entries"]:
        entry["reason"] = f"ticket TEL-{entry['rule']}"
    baseline.write_text(json.dumps(document, indent=2))  # laid out otherwise: still read
    fixed = tmp_path / "fixed.ndjson"
    fixed.write_text(recording(seed=6, fixed=frozenset({"truncated-line"})))
    rewritten = tmp_path / "rewritten.json"
    done = run_cli("check", str(fixed), "--baseline", str(baseline), "--write-baseline", str(rewritten))
    assert done.returncode == 0
    entries = json.loads(rewritten.read_text())["entries"]
    assert len(entries) == len(DEFECTS) - 1  # the fixed defect's entry is gone, not reported
    assert all(e["reason"] == f"ticket TEL-{e['rule']}" for e in entries)
    shown = run_cli("check", str(fixed), "--baseline", str(rewritten)).stdout
    assert "[known: ticket TEL-S201]" in shown


def test_sarif_marks_known_results_suppressed(adopted: tuple[Path, Path], tmp_path: Path) -> None:
    _, baseline = adopted
    capture = tmp_path / "new.ndjson"
    capture.write_text(recording(seed=7) + '{"action":"dialin-ready","callClientId":"c","provider":"daily"}\n')
    sarif = tmp_path / "results.sarif"
    run_cli("check", str(capture), "--baseline", str(baseline), "--report", f"sarif={sarif}")
    log = json.loads(sarif.read_text())
    sarif_validator().validate(log)  # type: ignore[attr-defined]
    results = log["runs"][0]["results"]
    states = [r["baselineState"] for r in results]
    assert states.count("new") == 1 and states.count("unchanged") == 40
    assert results[-1]["baselineState"] == "new"  # the new defect, at the last line
    for result in results:
        assert ("suppressions" in result) == (result["baselineState"] == "unchanged")


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ("{not json", ["not JSON"]),
        ('{"entries": {}}', ["not a baseline file"]),
        ('{"entries": [{"rule": "S201", "event": "", "pointer": "", "kind": "k", "why": ""}]}', ["entry 1", "'why'"]),
        ('{"entries": [{"rule": "S999", "event": "", "pointer": "", "kind": "k"}]}', ["unknown rule 'S999'"]),
        ('{"entries": [{"rule": "S201", "event": "", "pointer": 3, "kind": "k"}]}', ["'pointer' must be a string"]),
        ('{"entries": [{"rule": "S201", "event": "", "pointer": ""}]}', ["'kind' is missing"]),
    ],
)
def test_a_broken_baseline_is_a_one_line_error(tmp_path: Path, content: str, needles: list[str]) -> None:
    baseline = tmp_path / "broken.json"
    baseline.write_text(content)
    capture = tmp_path / "c.ndjson"
    capture.write_text(recording(seed=1, copies=1))
    assert_usage_error(run_cli("check", str(capture), "--baseline", str(baseline)), "broken.json", *needles)
    assert_usage_error(run_cli("check", str(capture), "--baseline", str(tmp_path / "missing.json")), "missing.json")


_VALUES = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(first=_VALUES, second=_VALUES, line=st.integers(0, 10**6), number=st.integers(0, 10**9))
def test_a_defects_kind_holds_no_value(first: str, second: str, line: int, number: int) -> None:
    def finding(session: str, value: str, at: int, n: int) -> Any:
        return rules.IDENTITY_CHANGED.finding(
            at,
            f'destination of session {session} changed from "{value}" (line {n}) to "{value}x"',
            session_id=session,
            action="dialout-stopped",
            pointer="/destination",
        )

    a, b = finding(f"s-{first}", first, line, number), finding(f"s-{second}", second, line + 7, number + 1)
    assert defect_kind(a) == defect_kind(b) == 'destination of session <session> changed from "…" (line #) to "…"'
    assert fingerprint(a) == fingerprint(b)
    other = rules.IDENTITY_CHANGED.finding(line, "x", action="dialout-stopped", pointer="/origin")
    assert fingerprint(other) != fingerprint(a)


def test_the_next_steps_are_for_the_new_defects_not_the_known_ones(adopted: tuple[Path, Path], tmp_path: Path) -> None:
    _, baseline = adopted
    capture = tmp_path / "new.ndjson"
    # Many known findings of other rules, one new L301 (answered without connected): the step to take is L301's.
    answered = json.dumps(
        {"action": "dialout-answered", "callClientId": "c", "sessionId": "new-1", "sipCallId": "n@x", "provider": "x"}
    )
    capture.write_text(recording(seed=5) + answered + "\n")
    done = run_cli("check", str(capture), "--baseline", str(baseline), "--fail-on", "warning")
    assert done.returncode == 1, done.stdout
    steps = [line for line in done.stdout.splitlines() if line.startswith("  - ")]
    assert [step.split()[1] for step in steps] == ["L301"], done.stdout


def test_entries_of_rules_not_looked_for_are_not_stale(tmp_path: Path) -> None:
    capture = tmp_path / "defective.ndjson"
    capture.write_text((REPO / "examples" / "defective.ndjson").read_text())  # S201, S203, L303, L302
    baseline = tmp_path / "b.json"
    assert run_cli("check", str(capture), "--write-baseline", str(baseline)).returncode == 0
    for options in (["--partial"], ["--severity", "L302=off"], ["--select", "S2,C113"], ["--ignore", "L3"]):
        done = run_cli("check", str(capture), "--baseline", str(baseline), *options)
        assert "C113" not in done.stdout, (options, done.stdout)
        assert done.returncode == 0, (options, done.stdout)


def test_no_entry_is_judged_stale_when_a_capture_cannot_be_read_whole(tmp_path: Path) -> None:
    capture = tmp_path / "defective.ndjson"
    capture.write_text((REPO / "examples" / "defective.ndjson").read_text())
    baseline = tmp_path / "b.json"
    assert run_cli("check", str(capture), "--write-baseline", str(baseline)).returncode == 0
    truncated = tmp_path / "cut.ndjson.gz"
    truncated.write_bytes(gzip.compress(capture.read_bytes())[:12])  # C110: the known defects may be past the cut
    done = run_cli("check", str(truncated), "--baseline", str(baseline))
    assert "C110" in done.stdout and "C113" not in done.stdout, done.stdout


def test_the_junit_report_gives_the_baseline_its_c113_case_alone(adopted: tuple[Path, Path], tmp_path: Path) -> None:
    _, baseline = adopted
    capture = tmp_path / "fixed.ndjson"
    capture.write_text(recording(seed=2, fixed=frozenset({"truncated-line"})))
    junit = tmp_path / "junit.xml"
    done = run_cli("check", str(capture), "--baseline", str(baseline), "--report", f"junit={junit}")
    assert done.returncode == 1, done.stdout
    root = ET.parse(junit).getroot()
    suites = {suite.get("name"): [case.get("name") for case in suite.iter("testcase")] for suite in root}
    (baseline_suite,) = [cases for name, cases in suites.items() if name.endswith("telephony-baseline.json")]
    assert baseline_suite == ["C113 stale-baseline-entry"]
    (capture_suite,) = [cases for name, cases in suites.items() if name.endswith("fixed.ndjson")]
    assert "C113 stale-baseline-entry" not in capture_suite and "S201 missing-required-field" in capture_suite
