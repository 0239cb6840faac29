"""GitHub annotations within GitHub's limits, the closing notice, and the step summary."""

from __future__ import annotations

import re
from pathlib import Path

from _gates import GOOD, NO_ENDPOINT, run_cli

ANNOTATION = re.compile(r"^::(?P<kind>error|warning|notice) (?P<props>[^:]*)::(?P<text>.*)$")


def annotations(stdout: str) -> list[re.Match[str]]:
    return [m for m in map(ANNOTATION.match, stdout.splitlines()) if m]


def _many(tmp_path: Path) -> Path:
    """3,000 findings: 2,990 S201 errors, then 5 C101 errors, and 5 L301 warnings."""
    answered = ('{"action":"dialout-answered","callClientId":"c","sessionId":"o%d","sipCallId":"x@sip",'
                '"provider":"daily"}')
    capture = tmp_path / "many.ndjson"
    lines = [GOOD] + [NO_ENDPOINT] * 2990 + ["{oops"] * 5 + [answered % i for i in range(5)]
    capture.write_text("\n".join(lines) + "\n")
    return capture


def test_3000_findings_give_at_most_10_error_annotations_and_a_notice(tmp_path: Path) -> None:
    capture = _many(tmp_path)
    done = run_cli("check", str(capture), "--format", "github", cwd=tmp_path, env={"GITHUB_WORKSPACE": str(tmp_path)})
    assert done.returncode == 1
    found = annotations(done.stdout)
    kinds = [m["kind"] for m in found]
    assert kinds == ["error"] * 10 + ["warning"] * 5 + ["notice"]
    titles = [re.search(r"title=([^,]*)", m["props"])[1] for m in found[:15]]  # type: ignore[index]
    # Each rule's first findings before any rule's later ones: both error rules are annotated.
    assert titles.count("C101 invalid-json") == 5 and titles.count("S201 missing-required-field") == 5
    assert set(titles[10:]) == {"L301 answered-without-connected"}
    assert all("file=many.ndjson," in m["props"] for m in found[:15])  # relative to GITHUB_WORKSPACE
    notice = found[-1]["text"]
    assert notice.startswith("2,985 error(s) more are not annotated")
    assert "--report json=PATH" in notice


def test_annotations_name_the_field_column(tmp_path: Path) -> None:
    capture = tmp_path / "one.ndjson"
    line = '{"action":"dialin-ready","callClientId":"c","sipEndpoint":5,"provider":"daily"}'
    capture.write_text(line + "\n")
    (annotation,) = annotations(run_cli("check", str(capture), "--format", "github").stdout)
    start, member = line.index('"sipEndpoint"') + 1, '"sipEndpoint":5'
    assert f",line=1,col={start},endColumn={start + len(member)}," in annotation["props"]
    assert "title=S202 wrong-type" in annotation["props"]


def test_step_summary(tmp_path: Path) -> None:
    capture = _many(tmp_path)
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(tmp_path)}
    done = run_cli("check", str(capture), "--format", "github", env=env)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## telephony-conformance\n")  # appended, never overwritten
    assert "### ❌ `many.ndjson` failed" in text
    assert "| `S201` missing-required-field | error | 2,990 | 0 |" in text
    assert "| `C101` invalid-json | error | 5 | 0 |" in text
    assert "| `L301` answered-without-connected | warning | 5 | 0 |" in text
    assert text.count("many.ndjson:2: S201 error") == 1 and "… and 2,987 more" in text
    assert "step summary counts them" in annotations(done.stdout)[-1]["text"]


def test_step_summary_stays_under_1_mib(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    folder.mkdir()
    for i in range(1200):  # each capture's section is about 1 KiB
        (folder / f"c{i:04}.ndjson").write_text(GOOD + "\n" + NO_ENDPOINT + "\n{oops\n")
    summary = tmp_path / "summary.md"
    run_cli("check", str(folder), "--format", "github", "--jobs", "1", env={"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text(encoding="utf-8")
    assert len(text.encode()) < 1024 * 1024
    assert re.search(r"_[0-9,]+ more capture\(s\) are left out", text)


def test_no_step_summary_without_the_variable(tmp_path: Path) -> None:
    capture = _many(tmp_path)
    done = run_cli("check", str(capture), "--format", "github", cwd=tmp_path)
    assert "step summary" not in annotations(done.stdout)[-1]["text"]
    assert list(tmp_path.glob("*.md")) == []
