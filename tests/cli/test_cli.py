"""The command line, run as a real subprocess: exit codes, output formats, inputs."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _cli import FINDING, GROUP, cli, findings_of, on_a_terminal

from conformance.rules import RULES, rule_table

REPO = Path(__file__).resolve().parent.parent.parent
SAMPLE = REPO / "examples" / "captured.ndjson"
REPORT_SCHEMA = REPO / "schemas" / "report.schema.json"
SCRIPT = Path(sys.executable).parent / "telephony-conformance"


def physical_lines(path: Path) -> int:
    data = path.read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def assert_usage_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("telephony-conformance")
    for needle in needles:
        assert needle in lines[0]
    assert done.stdout == ""


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[int]]:
    """The sample capture with defects planted at known lines."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    planted: dict[int, str] = {
        3: lines[2].replace('"sessionId":"a64d30f4-5216-4481-a2ef-515d6dd7dfc6",', ""),  # S201
        5: lines[4].replace('"callerId":"+13977888822"', '"callerId":13977888822'),  # S202
        8: lines[7].replace('"provider":"daily"', '"provider":NaN'),  # C103
        12: lines[11][:40],  # C101
        15: lines[14].replace('"type":null', '"type":"fatal"'),  # S203
        16: lines[15].replace('"origin":"+13977888822"', '"origin":"+13977888822","origin":"+13977888822"'),  # C104
    }
    out = [planted.get(i, line) for i, line in enumerate(lines, 1)]
    out.append('{"action":"dialout-connected","callClientId":"x","sessionId":"7d208e2a","sipCallId":"q","provider":"d"}')
    out.append(out[-1])  # L306 at the last line
    path = tmp_path_factory.mktemp("defects") / "planted.ndjson"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path, {*planted, len(out)}


# --- exit codes ---------------------------------------------------------------------------
def test_sample_capture_passes() -> None:
    done = cli("check", str(SAMPLE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert findings_of(done.stdout) == []
    assert "Passed" in done.stdout
    assert f"{physical_lines(SAMPLE)} lines" in done.stdout
    assert done.stderr == ""


def test_the_installed_script_checks_the_sample_from_any_folder(tmp_path: Path) -> None:
    if not SCRIPT.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    done = subprocess.run([str(SCRIPT), "check", str(SAMPLE)], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_version_is_the_installed_distributions() -> None:
    # The version is written once, in conformance/__init__.py, and the build reads it from
    # there: the installed metadata and the CLI must say the same.
    from importlib.metadata import version

    import conformance

    done = cli("--version")
    assert done.returncode == 0, done.stderr
    assert version("telephony-conformance") == conformance.__version__
    assert f" {conformance.__version__} " in done.stdout


def test_planted_defects_exit_1_naming_exactly_the_bad_lines(defective: tuple[Path, set[int]]) -> None:
    path, bad = defective
    done = cli("check", str(path))
    assert done.returncode == 1, done
    found = findings_of(done.stdout)
    assert {line for _, line, _, _ in found} == bad
    assert {p for p, _, _, _ in found} == {str(path)}
    assert {rule for _, _, rule, _ in found} == {"S201", "S202", "C103", "C101", "S203", "C104", "L306"}
    assert "Failed" in done.stdout
    assert re.search(r"Findings: [0-9]+ errors \(", done.stdout)
    assert "Traceback" not in done.stderr


def test_summary_counts_lines_events_sessions(defective: tuple[Path, set[int]]) -> None:
    path, _ = defective
    done = cli("check", str(path))
    total = physical_lines(path)
    read = re.search(
        r"Checked 1 capture: ([0-9]+) lines = ([0-9]+) events \+ ([0-9]+) blank \+ ([0-9]+) not an event\.", done.stdout
    )
    kinds = re.search(r"Events: ([0-9]+) telephony, 4 other \(not checked\); ([0-9]+) sessions", done.stdout)
    assert read and kinds, done.stdout
    lines, events, blank, rejected = map(int, read.groups())
    assert lines == total == events + blank + rejected  # every line accounted for
    assert events == int(kinds[1]) + 4


@pytest.mark.parametrize("flag", [[], ["--strict"]])
def test_warnings_fail_only_under_strict(tmp_path: Path, flag: list[str]) -> None:
    path = REPO / "tests" / "data" / "invalid" / "L301-answered-without-connected@1+4.ndjson"
    done = cli("check", str(path), *flag)
    assert {(line, rule, sev) for _, line, rule, sev in findings_of(done.stdout)} == {
        (1, "L301", "warning"),
        (4, "L301", "warning"),
    }
    assert done.returncode == (1 if flag else 0)


def test_strict_reports_undocumented_fields(tmp_path: Path) -> None:
    line = SAMPLE.read_text().splitlines()[1].replace('"provider"', '"sipEndpiont":"x","provider"')
    path = tmp_path / "extra.ndjson"
    path.write_text(line + "\n")
    assert cli("check", str(path)).returncode == 0
    strict = cli("check", "--strict", str(path))
    assert strict.returncode == 1
    assert [(ln, rule) for _, ln, rule, _ in findings_of(strict.stdout)] == [(1, "S205")]


def test_partial_select_ignore_allow_empty(tmp_path: Path) -> None:
    stopped = tmp_path / "stopped.ndjson"
    stopped.write_text(SAMPLE.read_text().splitlines()[15] + "\n")
    assert cli("check", str(stopped)).returncode == 0  # L302 is a warning: a late joiner sees this
    assert cli("check", "--strict", str(stopped)).returncode == 1
    assert cli("check", "--strict", "--partial", str(stopped)).returncode == 0
    assert cli("check", "--strict", "--ignore", "l3", str(stopped)).returncode == 0
    assert cli("check", "--strict", "--select", "L302", str(stopped)).returncode == 1
    empty = tmp_path / "empty.ndjson"
    empty.write_text('{"action":"participant-joined"}\n')
    done = cli("check", str(empty))
    assert done.returncode == 1
    assert [(ln, rule) for _, ln, rule, _ in findings_of(done.stdout)] == []  # C111 is about the whole capture
    assert f"{empty}: C111 error:" in done.stdout
    assert cli("check", "--allow-empty", str(empty)).returncode == 0


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.ndjson"
    assert_usage_error(cli("check", str(missing)), str(missing))
    assert_usage_error(cli("check", str(SAMPLE), str(missing)), str(missing))


def test_folder_without_captures_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    assert_usage_error(cli("check", str(tmp_path)), str(tmp_path), "no captures")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "--select", "X999", str(SAMPLE)], "'X999'"),
        (["check", "--ignore", "S2,Q", str(SAMPLE)], "'Q'"),
        (["check", "--format", "xml", str(SAMPLE)], "xml"),
        (["check"], "PATH"),
        ([], "command"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_bad_arguments_are_exit_2_with_one_line(args: list[str], needle: str) -> None:
    assert_usage_error(cli(*args), needle)


def test_stdin_is_read_with_dash() -> None:
    done = cli("check", "-", input=SAMPLE.read_bytes())
    assert done.returncode == 0, done
    bad = SAMPLE.read_bytes() + b'{"action":"dialin-ready"}\n'
    done = cli("check", "-", input=bad)
    assert done.returncode == 1
    expected = [("-", physical_lines(SAMPLE) + 1, "S201")] * 3
    assert [(p, ln, rule) for p, ln, rule, _ in findings_of(done.stdout)] == expected


def test_gzip_on_stdin() -> None:
    done = cli("check", "-", "--format", "json", input=gzip.compress(SAMPLE.read_bytes()))
    assert done.returncode == 0, done
    assert json.loads(done.stdout)["captures"][0]["lines"] == physical_lines(SAMPLE)


def test_a_folder_of_captures(tmp_path: Path) -> None:
    good = SAMPLE.read_bytes()
    bad = b'{"action":"dialin-stopped","callClientId":"c","sessionId":"s","provider":"daily"}\n'
    (tmp_path / "a.ndjson").write_bytes(good)
    (tmp_path / "b.jsonl").write_bytes(bad)
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "c.ndjson.gz").write_bytes(gzip.compress(good + bad))
    (tmp_path / "ignored.txt").write_bytes(b"not a capture")
    done = cli("check", "--strict", str(tmp_path))
    assert done.returncode == 1
    found = {(Path(p).name, ln, rule) for p, ln, rule, _ in findings_of(done.stdout)}
    assert found == {("b.jsonl", 1, "L302"), ("c.ndjson.gz", physical_lines(SAMPLE) + 1, "L302")}
    assert "Checked 3 captures" in done.stdout
    # What the folder scan left out is named, never skipped silently.
    assert re.search(r"Skipped 1 file in the folders given, .*: \S*ignored\.txt; name a file to check it", done.stdout)


# --- JSON report --------------------------------------------------------------------------
def test_json_report_validates_and_counts_lines(defective: tuple[Path, set[int]], tmp_path: Path) -> None:
    if not REPORT_SCHEMA.exists():
        pytest.skip("schemas/report.schema.json is not written yet")
    from jsonschema import Draft202012Validator

    path, bad = defective
    crlf = tmp_path / "crlf.jsonl"
    crlf.write_bytes(SAMPLE.read_bytes().replace(b"\n", b"\r\n") + b"\r\n" + SAMPLE.read_bytes().splitlines()[1])
    done = cli("check", "--format", "json", str(path), str(SAMPLE), str(crlf))
    assert done.returncode == 1
    report = json.loads(done.stdout)
    Draft202012Validator(json.loads(REPORT_SCHEMA.read_text())).validate(report)
    captures = {c["path"]: c for c in report["captures"]}
    for p in (path, SAMPLE, crlf):
        c = captures[str(p)]
        assert c["lines"] == physical_lines(p)
        assert c["lines"] == c["blankLines"] + c["rejectedLines"] + c["events"]
        assert sum(c["eventsByAction"].values()) == c["telephonyEvents"] + c["unknownTelephonyEvents"]
    assert {f["line"] for f in captures[str(path)]["findings"]} == bad
    assert captures[str(SAMPLE)]["findings"] == []
    assert captures[str(SAMPLE)]["eventsByAction"]["dialin-connected"] == 3
    finding = next(f for f in captures[str(path)]["findings"] if f["rule"] == "S202")
    assert finding["pointer"] == "/callerId" and finding["action"] == "dialout-connected"
    assert finding["severity"] == "error" and finding["sessionId"]
    summary = report["summary"]
    assert summary["captures"] == 3 and summary["passed"] is False
    assert summary["lines"] == sum(c["lines"] for c in report["captures"])
    assert summary["errors"] == sum(c["errors"] for c in report["captures"])
    assert report["tool"] == "telephony-conformance"


def test_json_report_of_a_clean_run() -> None:
    report = json.loads(cli("check", "--format", "json", "--strict", str(SAMPLE)).stdout)
    assert report["summary"]["passed"] is True
    assert report["options"]["strict"] is True
    assert report["captures"][0]["sessions"] == 5


# --- GitHub annotations -------------------------------------------------------------------
def test_github_annotations(defective: tuple[Path, set[int]]) -> None:
    path, bad = defective
    done = cli("check", "--format", "github", str(path))
    assert done.returncode == 1
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::")]
    pattern = re.compile(
        r"^::(error|warning) file=(?P<file>[^,]+),line=(?P<line>[0-9]+)(,col=[0-9]+,endColumn=[0-9]+)?"
        r",title=(?P<rule>[CSL][0-9]{3}) [a-z0-9-]+::.+$"
    )
    matches = [pattern.match(a) for a in annotations]
    assert all(matches), annotations
    assert {int(m["line"]) for m in matches if m} == bad
    assert {m["file"] for m in matches if m} == {str(path)}
    assert all(a.startswith("::error ") for a in annotations)


def test_github_escapes_newlines_and_commas(tmp_path: Path) -> None:
    path = tmp_path / "a,b.ndjson"
    path.write_text('{"action":"dialin-ready","callClientId":"c","sipEndpoint":"x\\ny","provider":"daily"}\n')
    done = cli("check", "--format", "github", str(path))
    [annotation] = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert "file=" + str(path).replace(",", "%2C") + ",line=1" in annotation


# --- clean streams ------------------------------------------------------------------------
def test_redirected_output_has_no_progress(tmp_path: Path) -> None:
    big = tmp_path / "big.ndjson"
    big.write_bytes(SAMPLE.read_bytes() * 500)
    done = cli("check", "--allow-empty", str(big), env={"TELEPHONY_CONFORMANCE_PROGRESS_AFTER": "0"})
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert all(FINDING.match(line) or GROUP.match(line) or not line.startswith(str(big)) for line in lines)
    assert "\r" not in done.stdout and "\x1b" not in done.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_goes_to_a_terminal_stderr_never_to_stdout(tmp_path: Path) -> None:

    big = tmp_path / "big.ndjson"
    big.write_bytes(SAMPLE.read_bytes() * 500)
    expected = cli("check", str(big))
    # The bar is drawn once a capture has taken this long: at once, here.
    code, stderr, out = on_a_terminal(
        "check", str(big), env={"TELEPHONY_CONFORMANCE_PROGRESS_AFTER": "0"}, stdout_too=False
    )
    assert code == expected.returncode
    assert out == expected.stdout
    assert stderr, "no progress bar was drawn on the terminal"
    assert "big.ndjson" in stderr


# --- other commands -----------------------------------------------------------------------
def test_schemas_prints_the_schema_folder(tmp_path: Path) -> None:
    done = cli("schemas", cwd=tmp_path)
    assert done.returncode == 0
    folder = Path(done.stdout.strip())
    assert folder.is_absolute() and folder.is_dir()
    names = {p.name for p in folder.glob("*.schema.json")}
    assert "telephony-event.schema.json" in names and "defs.schema.json" in names
    assert {"dialin-ready.schema.json", "dialout-warning.schema.json"} <= names


def test_rules_lists_every_rule() -> None:
    done = cli("rules")
    assert done.returncode == 0
    assert [line.split()[0] for line in done.stdout.splitlines()] == list(RULES)
    assert cli("rules", "--markdown").stdout.strip() == rule_table()
