"""What a person reads from the CLI must never mislead: verdicts that agree with Daily's
documentation, findings grouped and capped, summaries whose counts add up and never claim
more than was checked, next steps that fit what was found, and a progress bar that never
garbles the output. Run as real subprocesses (and under a pseudo-terminal for the bar)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from _cli import FINDING, GROUP, cli, findings_of, on_a_terminal

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = REPO / "tests" / "data" / "published"
STOP = {"action": "dialin-stopped", "callClientId": "c", "sessionId": "s", "provider": "daily"}
NO_ENDPOINT = {"action": "dialin-ready", "callClientId": "c", "provider": "daily"}  # S201
READY = {**NO_ENDPOINT, "sipEndpoint": "sip:r@sip.daily.co"}


def capture(tmp_path: Path, *events: object, name: str = "capture.ndjson") -> Path:
    path = tmp_path / name
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events))
    return path


# --- verdicts that agree with Daily's documentation ---------------------------------------
@pytest.mark.parametrize("example", sorted(PUBLISHED.glob("*.json")), ids=lambda p: p.stem)
def test_each_published_example_alone_passes(tmp_path: Path, example: Path) -> None:
    """Every example Daily publishes is a real event: checked alone, as a one-line capture
    without options, it passes (a stop alone is what a client that joined mid-call sees)."""
    line = json.dumps(json.loads(example.read_text(encoding="utf-8")))
    done = cli("check", str(capture(tmp_path, line)))
    assert done.returncode == 0, done.stdout


def test_there_are_published_examples_of_every_daily_js_event() -> None:
    names = {p.name.split("--")[1] for p in PUBLISHED.glob("daily-js--*.json")}
    assert len(names) == 10


def test_a_stop_without_a_start_is_a_warning_that_fails_only_under_strict(tmp_path: Path) -> None:
    path = capture(tmp_path, STOP)
    done = cli("check", str(path))
    assert done.returncode == 0
    assert [(line, rule, severity) for _, line, rule, severity in findings_of(done.stdout)] == [(1, "L302", "warning")]
    assert cli("check", "--strict", str(path)).returncode == 1


# --- grouped and capped -------------------------------------------------------------------
def test_three_thousand_findings_are_grouped_by_rule_and_capped(tmp_path: Path) -> None:
    path = capture(tmp_path, *[NO_ENDPOINT] * 2990, *["{oops"] * 10)
    done = cli("check", str(path))
    assert done.returncode == 1
    out = done.stdout.splitlines()
    assert len(out) < 80, "3,000 findings must not print 3,000 lines"
    groups = [GROUP.match(line) for line in out if GROUP.match(line)]
    # Errors by rule id; each header gives the rule's whole count.
    assert [(g["rule"], g["count"]) for g in groups if g] == [("C101", "10"), ("S201", "2,990")]
    found = findings_of(done.stdout)
    assert sum(1 for f in found if f[2] == "S201") == 20 and sum(1 for f in found if f[2] == "C101") == 10
    assert any("2,970 more S201 findings" in line and "--format json" in line for line in out)
    assert "Findings: 3,000 errors (C101 invalid-json 10, S201 missing-required-field 2,990), 0 warnings." in out


def test_max_findings_sets_the_cap_and_zero_shows_all(tmp_path: Path) -> None:
    path = capture(tmp_path, *[NO_ENDPOINT] * 30)
    assert len(findings_of(cli("check", "--max-findings", "3", str(path)).stdout)) == 3
    assert len(findings_of(cli("check", "--max-findings", "0", str(path)).stdout)) == 30
    done = cli("check", "--max-findings", "-1", str(path))
    assert done.returncode == 2 and "max-findings" in done.stderr


def test_a_hint_is_shown_once_per_group_while_it_does_not_change(tmp_path: Path) -> None:
    stops = [{**STOP, "sessionId": f"s{i}"} for i in range(5)]
    done = cli("check", str(capture(tmp_path, *stops)))
    assert done.stdout.count("hint: ") == 1


# --- the summary ----------------------------------------------------------------------------
def test_every_count_adds_up_and_unknown_telephony_events_are_counted(tmp_path: Path) -> None:
    path = capture(
        tmp_path,
        READY,
        {"action": "dialin-conected", "sessionId": "x"},  # unknown telephony (S204)
        {"action": "participant-joined"},
        "",
        "not json",
    )
    out = cli("check", str(path)).stdout
    assert "Checked 1 capture: 5 lines = 3 events + 1 blank + 1 not an event." in out
    assert "Events: 1 telephony, 1 unknown telephony (S204), 1 other (not checked); 0 sessions." in out


def test_singular_and_plural(tmp_path: Path) -> None:
    out = cli("check", str(capture(tmp_path, {**READY, "sessionId": "s"}, STOP))).stdout
    assert "Checked 1 capture: 2 lines = 2 events" in out
    assert "; 1 session." in out
    assert " 1 lines" not in out and " 1 sessions" not in out and "(s)" not in out


def test_selected_rules_never_claim_more_than_was_checked(tmp_path: Path) -> None:
    path = capture(tmp_path, *[NO_ENDPOINT] * 5, "{oops")
    done = cli("check", "--select", "L306", str(path))
    assert done.returncode == 0
    assert "every event matches its schema" not in done.stdout
    assert "Passed: the 1 rule checked (L306) found nothing that fails." in done.stdout
    not_checked = r"Not checked \(--select/--ignore, or --severity off\): C101, .*S201.*; nothing is claimed"
    assert re.search(not_checked, done.stdout)
    ignored = cli("check", "--ignore", "S2", str(capture(tmp_path, READY, name="ok.ndjson")))
    assert ignored.returncode == 0 and "every event matches its schema" not in ignored.stdout
    assert "S201, S202, S203, S204, S205; nothing is claimed" in ignored.stdout
    whole = cli("check", str(capture(tmp_path, READY, name="all.ndjson")))
    assert "Passed: every event matches its schema and every session its lifecycle." in whole.stdout
    assert "Not checked" not in whole.stdout


def test_next_steps_fit_what_was_found(tmp_path: Path) -> None:
    schema = cli("check", str(capture(tmp_path, NO_ENDPOINT, name="schema.ndjson"))).stdout
    assert "S201 missing-required-field: Check whether the recorder or a forwarder dropped the field" in schema
    assert "--partial" not in schema  # it would change nothing here
    late = cli("check", "--strict", str(capture(tmp_path, STOP, name="late.ndjson"))).stdout
    assert re.search(r"- L302 stopped-without-start: If the capture began mid-call.*--partial", late)
    twice = cli("check", str(capture(tmp_path, {**READY, "sessionId": "s"}, STOP, STOP, name="twice.ndjson"))).stdout
    assert "- L303 event-after-end: A duplicate or late delivery" in twice


def test_s202_and_s203_name_the_event(tmp_path: Path) -> None:
    connected = {
        "action": "dialout-connected",
        "callClientId": "c",
        "sessionId": "s",
        "sipCallId": "x",
        "provider": "daily",
    }
    path = capture(tmp_path, {**connected, "sessionId": 42}, {**connected, "sessionId": "t", "destination": "123"})
    messages = {rule: message for _, _, rule, message in _messages(cli("check", str(path)).stdout)}
    assert messages["S202"].startswith('dialout-connected "sessionId" should be a string')
    assert messages["S203"].startswith('dialout-connected "destination" should be')


def _messages(stdout: str) -> list[tuple[str, int, str, str]]:
    out = []
    for line in stdout.splitlines():
        m = FINDING.match(line)
        if m:
            out.append((m["path"], int(m["line"]), m["rule"], line.split(f"{m['severity']}: ", 1)[1]))
    return out


def test_values_are_quoted_one_way(tmp_path: Path) -> None:
    path = capture(tmp_path, {"action": "dialin-conected"}, {**READY, "sipEndpoint": 5}, '{"action":"x","a":1,"a":2}')
    text = " ".join(message for *_, message in _messages(cli("check", str(path)).stdout))
    assert '"dialin-conected"' in text and '"sipEndpoint"' in text and 'key "a"' in text
    assert "'" not in text.replace("Daily's", "")


# --- the progress bar -----------------------------------------------------------------------
def _screen_lines(output: str) -> list[str]:
    """The lines a terminal shows: escape sequences dropped, each line what follows its last
    carriage return."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)
    return [line.rsplit("\r", 1)[-1] for line in plain.replace("\r\n", "\n").split("\n")]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_no_progress_bar_for_a_small_capture_on_a_terminal(tmp_path: Path) -> None:
    path = capture(tmp_path, READY, NO_ENDPOINT, READY)
    code, output, _ = on_a_terminal("check", str(path))
    assert code == 1
    assert "\x1b[?25l" not in output  # rich hides the cursor while it draws a bar
    assert "━" not in output
    assert any(line.startswith(f"{path}:2: S201 error: ") for line in _screen_lines(output))


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_the_progress_bar_is_cleared_before_any_finding(tmp_path: Path) -> None:
    lines = [READY] * 20_000 + [NO_ENDPOINT]
    path = capture(tmp_path, *lines)
    # The bar is drawn once a capture has taken this long: at once, here.
    at_once = {"TELEPHONY_CONFORMANCE_PROGRESS_AFTER": "0"}
    code, output, _ = on_a_terminal("check", "--jobs", "1", str(path), env=at_once)
    assert code == 1
    assert "━" in output, "no progress bar was drawn"
    shown = _screen_lines(output)
    finding = f"{path}:{len(lines)}: S201 error: "
    assert any(line.startswith(finding) for line in shown), shown
    assert not any(finding in line and not line.startswith(finding) for line in shown)  # never glued to the bar
