"""Captures recorded from daily-python and pipecat: ``{"handler": …, "data": …}`` lines, checked
against the daily-python profiles with the same rule ids as daily-js events."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.check import CaptureSummary, check_file, parallel, pipeline
from conformance.options import Options
from conformance.schemas import load_schemas
from conformance.surfaces import ACTIONS, DAILY_PYTHON_DOCUMENTED, HANDLER_METHODS, daily_python_schema_file

SID = "7d208e2a-520b-4a8d-a2c9-3a36dfa0d342"


def line(handler: str, data: Any, client: str | None = "bot-1", **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"handler": handler}
    if client is not None:
        out["client"] = client
    return {**out, "at": 1733428800.5, **more, "data": data}


@pytest.mark.parametrize("action", ACTIONS)
def test_every_documented_shape_checks_clean(action: str, check: Any, lines: Any) -> None:
    example = load_schemas()[daily_python_schema_file(action)]["examples"][0]
    result = check(lines(line(HANDLER_METHODS[action], example)), partial=True)
    assert result.findings == []
    assert result.summary.telephony_events == 1
    assert result.summary.events_by_surface == {"daily-python": 1}


def test_the_record_schema_examples_check_clean(check: Any, lines: Any) -> None:
    examples = load_schemas()["daily-python-record.schema.json"]["examples"]
    assert check(lines(*examples), partial=True).findings == []


def test_what_daily_python_does_not_promise_is_not_required(check: Any, event: Any, lines: Any) -> None:
    # A daily-js event less action and callClientId has what daily-python may send, and more.
    data = {k: v for k, v in event("dialin-error").items() if k not in ("action", "callClientId")}
    assert check(lines(line("on_dialin_error", data)), partial=True).findings == []
    bare = {"sessionId": SID}  # no errorMsg, provider, sipCallId: fine for daily-python
    assert check(lines(line("on_dialin_error", bare)), partial=True).findings == []
    no_session = check(lines(line("on_dialin_error", {"message": "x"})), partial=True)
    assert [(f.rule, f.pointer) for f in no_session.findings] == [("S201", "/data/sessionId")]
    assert check(lines(line("on_dialout_error", {"message": "x"}))).findings == []  # L12


def test_findings_point_into_the_data_and_name_the_handler(check: Any, lines: Any) -> None:
    result = check(lines(line("on_dialout_stopped", {"sessionId": SID, "destination": "12098888888"})))
    (finding,) = [f for f in result.findings if f.rule.startswith("S")]
    assert (finding.rule, finding.pointer, finding.action, finding.session_id) == (
        "S203",
        "/data/destination",
        "on_dialout_stopped",
        SID,
    )
    assert '"data.destination"' in finding.message


def test_a_misspelt_telephony_handler_gets_a_did_you_mean_and_others_are_counted(check: Any, lines: Any) -> None:
    result = check(
        lines(line("on_dialin_conected", {"sessionId": SID}), line("on_participant_joined", {"id": "p"})),
        allow_empty=True,
    )
    (finding,) = result.findings
    assert (finding.line, finding.rule, finding.pointer) == (1, "S204", "/handler")
    assert "did you mean \"on_dialin_connected\"?" in finding.message
    assert (result.summary.unknown_telephony_events, result.summary.other_events) == (1, 1)


def test_the_envelope_is_checked(check: Any, lines: Any) -> None:
    result = check(lines({"handler": "on_dialin_stopped", "client": 7, "at": "now", "data": {"sessionId": SID}}))
    assert {(f.rule, f.pointer) for f in result.findings} >= {("S202", "/client"), ("S202", "/at")}
    no_data = check(lines({"handler": "on_dialin_connected"}))
    assert ("S201", "/data") in {(f.rule, f.pointer) for f in no_data.findings}
    not_a_name = check(lines({"handler": 3, "data": {}}))
    assert [f.rule for f in not_a_name.findings if f.line == 1] == ["C109"]


def test_lifecycle_rules_apply_with_handler_names(check: Any, lines: Any) -> None:
    result = check(
        lines(
            line("on_dialout_answered", {"sessionId": SID}),  # L301
            line("on_dialout_stopped", {"sessionId": SID}),
            line("on_dialout_connected", {"sessionId": SID}),  # L303
            line("on_dialin_stopped", {"sessionId": "s2"}),  # L302
        )
    )
    assert [(f.line, f.rule) for f in result.findings] == [(1, "L301"), (3, "L303"), (4, "L302")]
    assert result.findings[0].message.endswith("with no earlier on_dialout_connected")
    assert "already ended with on_dialout_stopped" in result.findings[1].message


def test_sessions_are_told_apart_by_client_and_by_surface(check: Any, event: Any, lines: Any) -> None:
    connected = event("dialin-connected", sessionId=SID)
    result = check(
        lines(
            line("on_dialin_connected", {"sessionId": SID}, client="bot-1"),
            line("on_dialin_connected", {"sessionId": SID}, client="bot-2"),  # another client: no L306
            line("on_dialin_connected", {"sessionId": SID}, client=None),  # no client named: a third
            connected,  # the daily-js event of the same session: another surface
            line("on_dialin_connected", {"sessionId": SID}, client="bot-1"),  # the repeat: L306
        )
    )
    assert [(f.line, f.rule) for f in result.findings] == [(5, "L306")]
    assert result.summary.sessions == 4
    assert result.summary.events_by_surface == {"daily-python": 4, "daily-js": 1}


def test_a_broken_line_that_named_the_session_excuses_its_missing_start(check: Any, lines: Any) -> None:
    cut = json.dumps(line("on_dialin_connected", {"sessionId": SID, "sipFrom": "sip:a@b"}))[:-8]
    result = check(lines(cut, line("on_dialin_stopped", {"sessionId": SID})))
    assert [(f.line, f.rule) for f in result.findings] == [(1, "C101")]


def test_parallel_check_equals_one_process(tmp_path: Path, lines: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    records = []
    for i in range(3000):
        sid = f"s{i % 400}"
        handler = ("on_dialout_connected", "on_dialout_answered", "on_dialout_stopped")[i // 400 % 3]
        records.append(line(handler, {"sessionId": sid, "message": "x"}, client=f"bot-{i % 3}"))
    path = tmp_path / "python.ndjson"
    path.write_bytes(lines(*records))

    def run(jobs: int) -> tuple[list[Any], dict[str, Any]]:
        summary = CaptureSummary(str(path))
        return [f.as_dict() for f in check_file(str(path), summary, Options(jobs=jobs))], summary.as_dict()

    # Ranges of 20 kB: sessions cross them, and a range's sessions are joined to earlier ones.
    small = functools.partial(parallel.check_lines_parallel, chunk_bytes=20_000)
    monkeypatch.setattr(pipeline, "check_lines_parallel", small)
    one = run(1)
    assert run(2) == one
    assert len(one[0]) > 100  # the repeated sessions' findings


@pytest.mark.parametrize("action", [a for a in ACTIONS if a != "dialin-ready"])
def test_each_profile_is_derived_from_its_daily_js_schema(action: str) -> None:
    # Not a copy: every field daily-js documents is the daily-js field itself, by $ref, so a
    # change to the daily-js schema is a change to the profile; daily-python's documented keys
    # are all there; action and callClientId are not (daily-python's dicts have neither).
    js = load_schemas()[f"{action}.schema.json"]["properties"]
    profile = load_schemas()[daily_python_schema_file(action)]["properties"]
    for name in js:
        if name in ("action", "callClientId"):
            assert name not in profile
        else:
            assert profile[name] == {"$ref": f"{action}.schema.json#/properties/{name}"}, name
    assert set(DAILY_PYTHON_DOCUMENTED[action]) <= set(profile)
    own = set(profile) - set(js)
    assert all(profile[name]["$ref"].startswith("defs.schema.json#/$defs/") for name in own)
