"""Coverage: what a capture exercised, in the JSON report, the text summary and the step summary."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from _gates import REPO, SAMPLE, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from conformance.check import CaptureSummary, check_stream
from conformance.check.coverage import all_paths
from conformance.options import Options
from conformance.strategies import events
from conformance.surfaces import ACTIONS


def _event(action: str, session: str | None = None, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"action": action, "callClientId": "c", "provider": "daily", **fields}
    if session is not None:
        event["sessionId"] = session
    return event


def _report(path: Path) -> dict[str, Any]:
    done = run_cli("check", str(path), "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    Draft202012Validator(json.loads((REPO / "schemas" / "report.schema.json").read_text())).validate(report)
    return report


def test_the_json_report_counts_actions_fields_and_paths(tmp_path: Path) -> None:
    call = {"sipCallId": "a@sip.daily.co"}
    lines = [
        _event("dialin-ready", sipEndpoint="sip:r@sip.daily.co"),
        _event("dialin-connected", "in-1", **call, sipFrom="sip:a@b.co"),
        _event("dialin-stopped", "in-1"),
        _event("dialin-error", "in-2", errorMsg="boom", type=None),  # an error without connected; type null
        _event("dialout-connected", "out-1", **call),
        _event("dialout-answered", "out-1", **call),
        _event("dialout-stopped", "out-1"),
        _event("dialout-connected", "out-2", **call),  # still open at the end
        _event("dialout-error", None, errorMsg="no session"),  # no session
    ]
    capture = tmp_path / "calls.ndjson"
    # Compact lines take the fast path; the spaced ones the exact path: both are counted.
    text = [json.dumps(e, separators=(",", ":")) if i % 2 else json.dumps(e) for i, e in enumerate(lines)]
    capture.write_text("\n".join(text) + "\n")
    coverage = _report(capture)["captures"][0]["coverage"]
    assert coverage["actions"] == {a: sum(e["action"] == a for e in lines) for a in ACTIONS}
    assert coverage["actions"]["dialin-warning"] == 0 and set(coverage["webhookTypes"].values()) == {0}
    connected = coverage["fields"]["dialin-connected"]
    assert connected["sipFrom"] == {"present": 1, "absent": 0, "null": 0}
    assert connected["sipHeaders"] == {"present": 0, "absent": 1, "null": 0}
    assert coverage["fields"]["dialin-error"]["type"] == {"present": 0, "absent": 0, "null": 1}
    assert coverage["fields"]["dialout-error"]["sessionId"] == {"present": 0, "absent": 1, "null": 0}
    for fields in coverage["fields"].values():
        for counts in fields.values():
            assert min(counts.values()) >= 0
    paths = coverage["lifecyclePaths"]
    assert list(paths) == list(all_paths())
    assert {name: n for name, n in paths.items() if n} == {
        "dial-in: connected → stopped": 1,
        "dial-in: error": 1,
        "dial-out: connected → answered → stopped": 1,
        "dial-out: connected → open": 1,
        "dial-out: error without a session": 1,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), min_size=1, max_size=12))
def test_field_counts_are_the_same_on_the_fast_and_the_exact_path(generated: list[dict[str, Any]]) -> None:
    def counted(separators: tuple[str, str]) -> tuple[dict[str, int], dict[str, int]]:
        data = "".join(json.dumps(e, separators=separators) + "\n" for e in generated).encode()
        summary = CaptureSummary("-")
        list(check_stream(io.BytesIO(data), summary, Options(coverage=True, allow_empty=True)))
        return summary.fields_present, summary.fields_null

    compact, spaced = counted((",", ":")), counted((", ", ": "))
    assert compact == spaced
    # And each field's counts add up to its action's events.
    for event in generated:
        assert compact[0].get(f"{event['action']} callClientId", 0) <= len(generated)


def test_the_text_summary_has_one_line_of_it(tmp_path: Path) -> None:
    done = run_cli("check", str(SAMPLE))
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("Coverage:")]
    assert line == "Coverage: 10 of 10 telephony actions seen."
    # With a report that counts the lifecycle paths (JSON), the line names them too.
    counted = run_cli("check", str(SAMPLE), "--report", f"json={tmp_path / 'report.json'}")
    (line,) = [x for x in counted.stdout.splitlines() if x.startswith("Coverage:")]
    assert line == "Coverage: 10 of 10 telephony actions seen; sessions took 4 of 18 lifecycle paths."
    capture = tmp_path / "dialin.ndjson"
    capture.write_text(json.dumps(_event("dialin-ready", sipEndpoint="sip:r@sip.daily.co")) + "\n")
    (line,) = [x for x in run_cli("check", str(capture)).stdout.splitlines() if x.startswith("Coverage:")]
    assert line.startswith("Coverage: 1 of 10 telephony actions seen (never: dialin-connected, ")


def test_webhook_deliveries_count_by_type_and_take_paths(tmp_path: Path) -> None:
    capture = tmp_path / "hooks.ndjson"
    payload = {"sipCallId": "c@sip.daily.co", "session_id": "s", "timestamp": 1, "from": "+12098888888",
               "to": "+13977888822"}
    lines = [{"type": "dialin.connected", "payload": payload},
             {"type": "dialin.stopped", "payload": {**payload, "timestamp": 2}}]
    capture.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    coverage = _report(capture)["captures"][0]["coverage"]
    assert coverage["webhookTypes"]["dialin.connected"] == 1
    assert coverage["actions"]["dialin-connected"] == 0
    assert coverage["lifecyclePaths"]["dial-in: connected → stopped"] == 1


def test_daily_python_callbacks_count_their_data_fields_and_sessionless_errors(tmp_path: Path) -> None:
    # Recorded as record_handler writes them: daily-python's dicts, with no action and no callClientId.
    def recorded(handler: str, data: Any) -> dict[str, Any]:
        return {"handler": handler, "client": "CallClient#0", "data": data}

    lines = [
        recorded("on_dialin_ready", "sip:r@sip.daily.co"),
        recorded("on_dialin_connected", {"sessionId": "in-1", "sipFrom": "sip:a@b.co"}),
        recorded("on_dialin_stopped", {"sessionId": "in-1", "userId": None}),
        recorded("on_dialout_error", {"errorMsg": "no session"}),  # L12: no sessionId
        recorded("on_dialout_warning", {"errorMsg": "no session either"}),
        _event("dialout-error", None, errorMsg="daily-js, no session"),
    ]
    capture = tmp_path / "bot.ndjson"
    capture.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    coverage = _report(capture)["captures"][0]["coverage"]
    assert coverage["handlers"]["on_dialin_connected"] == 1
    fields = coverage["fields"]
    assert fields["on_dialin_connected"]["sipFrom"] == {"present": 1, "absent": 0, "null": 0}
    assert fields["on_dialin_connected"]["sipHeaders"] == {"present": 0, "absent": 1, "null": 0}
    assert fields["on_dialin_stopped"]["userId"] == {"present": 0, "absent": 0, "null": 1}
    assert fields["on_dialout_error"]["errorMsg"] == {"present": 1, "absent": 0, "null": 0}
    assert fields["on_dialin_ready"] == {}  # its data is the bare SIP URI string
    paths = coverage["lifecyclePaths"]
    assert paths["dial-out: error without a session"] == 2  # one daily-python, one daily-js
    assert paths["dial-out: warning without a session"] == 1
    assert paths["dial-in: connected → stopped"] == 1
