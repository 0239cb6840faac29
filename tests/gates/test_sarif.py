"""The SARIF report: valid against the official SARIF 2.1.0 schema, every field GitHub code
scanning reads, columns of the offending field, fingerprints that survive a new recording,
and GitHub's 25,000-result limit."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from _gates import GOOD, SAMPLE, run_cli, sarif_validator

from conformance.rules import RULES


def sarif_of(*args: str, tmp_path: Path, cwd: Path | None = None) -> dict[str, Any]:
    out = tmp_path / "results.sarif"
    done = run_cli("check", *args, "--report", f"sarif={out}", cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    log: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return log


def _session_lines(session: str, line_offset: int = 0, timestamp: int = 1) -> list[str]:
    """A dial-out call whose answered event has a numeric sessionId (S202) and whose connected
    event has a bad destination (S203), and a dial-in stopped twice (L303)."""
    connected = {
        "action": "dialout-connected", "callClientId": "c", "sessionId": session, "sipCallId": f"{session}@sip",
        "destination": "12098888888", "provider": "daily", "timestamp": timestamp,
    }
    answered = {"action": "dialout-answered", "callClientId": "c", "sessionId": 42, "sipCallId": "a@sip",
                "provider": "daily"}
    stopped = {"action": "dialin-stopped", "callClientId": "c", "sessionId": f"in-{session}", "provider": "daily"}
    connected_in = {"action": "dialin-connected", "callClientId": "c", "sessionId": f"in-{session}",
                    "sipCallId": "i@sip", "sipFrom": "sip:a@b.co", "provider": "daily"}
    return [GOOD] * line_offset + [json.dumps(connected), json.dumps(answered), json.dumps(connected_in),
                                   json.dumps(stopped), json.dumps(stopped)]


def test_sarif_validates_and_carries_every_field_github_reads(tmp_path: Path) -> None:
    capture = tmp_path / "captures" / "calls.ndjson"
    capture.parent.mkdir()
    capture.write_text("\n".join(_session_lines("s-1")) + "\n")
    (tmp_path / ".git").mkdir()  # the repository's root, for relative paths
    log = sarif_of(str(capture), tmp_path=tmp_path, cwd=tmp_path)
    sarif_validator().validate(log)  # type: ignore[attr-defined]
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "telephony-conformance"
    assert [rule["id"] for rule in driver["rules"]] == list(RULES)
    for rule in driver["rules"]:
        assert {"id", "name", "shortDescription", "fullDescription", "help", "defaultConfiguration"} <= rule.keys()
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] == RULES[rule["id"]].severity.value
    found = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]}
    assert found == {("S203", 1), ("S202", 2), ("L303", 5)}
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "error" and result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "captures/calls.ndjson", "uriBaseId": "%SRCROOT%"}
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= location["region"].keys()
        assert result["partialFingerprints"]["telephonyConformanceDefect/v1"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_the_column_is_the_offending_fields(tmp_path: Path) -> None:
    capture = tmp_path / "calls.ndjson"
    lines = _session_lines("s-1")
    capture.write_text("\n".join(lines) + "\n")
    log = sarif_of(str(capture), tmp_path=tmp_path)
    regions = {r["ruleId"]: r["locations"][0]["physicalLocation"]["region"] for r in log["runs"][0]["results"]}
    columns = {r["ruleId"]: r["properties"]["column"] for r in log["runs"][0]["results"]}
    for rule, line, field, value in (("S203", 0, "destination", '"12098888888"'), ("S202", 1, "sessionId", "42")):
        text = lines[line]
        member = f'"{field}": {value}'
        assert regions[rule]["startColumn"] == text.index(member) + 1, rule
        assert regions[rule]["endColumn"] == text.index(member) + len(member) + 1, rule
        assert columns[rule] == "field"
    # L303 names no field: the line, at column 1.
    assert (regions["L303"]["startColumn"], regions["L303"]["endColumn"]) == (1, 2)
    assert columns["L303"] == "line"


def test_a_daily_python_callback_s_field_has_its_column(tmp_path: Path) -> None:
    capture = tmp_path / "bot.ndjson"
    line = '{"handler":"on_dialin_connected","client":"c","data":{"sessionId":42,"sipCallId":"x@sip.daily.co"}}'
    capture.write_text(line + "\n")
    (result,) = sarif_of(str(capture), tmp_path=tmp_path)["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    start, end = line.index('"sessionId":42'), line.index(',"sipCallId"')
    assert (region["startColumn"], region["endColumn"]) == (start + 1, end + 1)
    assert result["properties"] == {"column": "field", "pointer": "/data/sessionId", "action": "on_dialin_connected"}


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    capture = tmp_path / "wide.ndjson"
    line = '{"action":"dialin-ready","callClientId":"日本語🙂","provider":"daily","sipEndpoint":5}'
    capture.write_text(line + "\n", encoding="utf-8")
    (result,) = sarif_of(str(capture), tmp_path=tmp_path)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"]["startColumn"] == line.index('"sipEndpoint"') + 1


def test_gzip_and_stdin_captures_get_columns_too(tmp_path: Path) -> None:
    capture = tmp_path / "calls.ndjson.gz"
    capture.write_bytes(gzip.compress(("\n".join(_session_lines("s-1")) + "\n").encode()))
    results = sarif_of(str(capture), tmp_path=tmp_path)["runs"][0]["results"]
    columns = {r["ruleId"]: r["properties"]["column"] for r in results}
    assert columns == {"S203": "field", "S202": "field", "L303": "line"}


def test_fingerprints_survive_another_recording(tmp_path: Path) -> None:
    first, again = tmp_path / "first.ndjson", tmp_path / "again.ndjson"
    first.write_text("\n".join(_session_lines("aaaa-1111", timestamp=1700000000)) + "\n")
    # The same defects, recorded later: other lines, other session ids, other timestamps.
    again.write_text("\n".join(_session_lines("bbbb-2222", line_offset=7, timestamp=1800000000)) + "\n")

    def prints(path: Path) -> dict[str, tuple[str, str]]:
        results = sarif_of(str(path), tmp_path=tmp_path)["runs"][0]["results"]
        return {r["ruleId"]: (r["partialFingerprints"]["telephonyConformanceDefect/v1"],
                              r["partialFingerprints"]["primaryLocationLineHash"]) for r in results}

    before, after = prints(first), prints(again)
    assert before == after and len(before) == 3
    assert len({digest for digest, _ in before.values()}) == 3  # three defects, three fingerprints


def test_repeated_defects_are_numbered_apart(tmp_path: Path) -> None:
    capture = tmp_path / "twice.ndjson"
    capture.write_text("\n".join(_session_lines("s-1") + _session_lines("s-2")) + "\n")
    results = sarif_of(str(capture), tmp_path=tmp_path)["runs"][0]["results"]
    s203 = [r["partialFingerprints"] for r in results if r["ruleId"] == "S203"]
    assert len(s203) == 2
    assert s203[0]["telephonyConformanceDefect/v1"] == s203[1]["telephonyConformanceDefect/v1"]
    assert [p["primaryLocationLineHash"].rsplit(":", 1)[1] for p in s203] == ["1", "2"]


def test_past_githubs_limit_the_most_important_results_are_kept(tmp_path: Path) -> None:
    capture = tmp_path / "many.ndjson"
    no_endpoint = '{"action":"dialin-ready","callClientId":"c","provider":"daily"}'  # S201, an error
    answered = ('{"action":"dialout-answered","callClientId":"c","sessionId":"o%d","sipCallId":"x@sip",'
                '"provider":"daily"}')  # L301, a warning
    lines = [answered % i for i in range(5)] + [no_endpoint] * 25_010 + ["{oops"]  # C101, an error, last
    capture.write_text("\n".join(lines) + "\n")
    run = sarif_of(str(capture), tmp_path=tmp_path)["runs"][0]
    results = run["results"]
    assert len(results) == 25_000
    rules = [r["ruleId"] for r in results]
    assert rules.count("C101") == 1  # the rare error is kept though it comes last
    assert rules.count("L301") == 0  # errors before warnings
    assert rules.count("S201") == 24_999
    lines_shown = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]
    assert lines_shown == sorted(lines_shown)
    assert run["properties"]["resultsOmitted"] == 25_016 - 25_000
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("16 of 25,016 findings are not in this log")


def test_a_clean_capture_has_no_results(tmp_path: Path) -> None:
    log = sarif_of(str(SAMPLE), tmp_path=tmp_path)
    assert log["runs"][0]["results"] == []
    assert "toolExecutionNotifications" not in log["runs"][0]["invocations"][0]


def test_a_capture_outside_the_repository_keeps_its_absolute_uri(tmp_path: Path) -> None:
    inside = tmp_path / "repo"
    (inside / ".git").mkdir(parents=True)
    capture = tmp_path / "elsewhere.ndjson"
    capture.write_text(GOOD + "\n{oops\n")
    (result,) = sarif_of(str(capture), tmp_path=tmp_path, cwd=inside)["runs"][0]["results"]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": capture.resolve().as_uri()}
