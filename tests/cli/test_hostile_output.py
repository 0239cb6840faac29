"""A capture is someone else's file: what it holds is printed escaped in every format, file
names of any bytes are reported, paths that cannot be read fail the run, and a run that
cannot finish says so in one line with exit 2. Real subprocesses throughout."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli import cli

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "captured.ndjson"
#: A session id that would clear the screen, set the terminal title, and forge both a
#: finding line and GitHub workflow commands, if it were printed raw.
HOSTILE = "s\x1b[2J\x1b]0;pwned\x07\n::error file=README.md,line=1::forged\r\n::add-mask::x\u202e\x9b31m"
FORGED_PREFIXES = ("::error file=README.md", "::add-mask::", "forged")


def _hostile_capture(folder: Path) -> Path:
    path = folder / "hostile.ndjson"
    stop = {"action": "dialin-stopped", "callClientId": "c", "sessionId": HOSTILE, "provider": "daily"}
    bad = {"action": "dialin-conected\x1b[31m", "sessionId": HOSTILE}
    path.write_text("\n".join(json.dumps(e) for e in (stop, stop, bad)) + "\n")
    return path


def _assert_nothing_raw(output: str, annotations: bool = False) -> None:
    assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output and "\x9b" not in output
    for line in output.splitlines():
        assert not line.startswith(FORGED_PREFIXES), line
        if annotations and line.startswith("::"):
            assert line.startswith(("::error file=", "::warning file=", "::notice")), line


@pytest.mark.parametrize("fmt", ["text", "github", "json"])
def test_capture_values_are_escaped_in_every_cli_format(tmp_path: Path, fmt: str) -> None:
    done = cli("check", "--format", fmt, str(_hostile_capture(tmp_path)))
    assert done.returncode == 1
    _assert_nothing_raw(done.stdout + done.stderr, annotations=fmt == "github")
    assert "\\x1b[2J" in done.stdout.replace("\\\\", "\\")  # shown, escaped
    if fmt == "json":
        report = json.loads(done.stdout)
        assert all("\n" not in f["message"] for f in report["captures"][0]["findings"])


def test_capture_values_are_escaped_in_pytest_output_and_junit(pytester: pytest.Pytester) -> None:
    path = _hostile_capture(pytester.path)
    xml = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess("--telephony-conformance", str(path), f"--junitxml={xml}", "-rA")
    out = result.stdout.str() + result.stderr.str()
    _assert_nothing_raw(out)
    text = xml.read_text(encoding="utf-8")
    ET.fromstring(text)
    assert "\x1b" not in text and "&#27;" not in text


def test_a_file_name_that_is_not_utf8_is_reported_in_json(tmp_path: Path) -> None:
    if sys.platform == "darwin":
        pytest.skip("macOS file systems refuse names that are not UTF-8")
    folder = os.fsencode(tmp_path)
    name = folder + b"/caps\xff\x1b[2J.ndjson"
    with open(name, "wb") as f:
        f.write(SAMPLE.read_bytes() + b'{"action":"dialin-ready"}\n')
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "check", "--format", "json", folder],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    [entry] = report["captures"]
    assert entry["path"].endswith("caps\\xff\\x1b[2J.ndjson")
    assert entry["findings"] and entry["errors"] == 3  # the last line lacks three fields
    text = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "check", folder], capture_output=True, check=False
    ).stdout
    assert b"\x1b" not in text and b"\xff" not in text and b"caps\\xff\\x1b[2J.ndjson:" in text


def test_a_file_name_that_is_not_utf8_works_with_pytest_junitxml(pytester: pytest.Pytester) -> None:
    if sys.platform == "darwin":
        pytest.skip("macOS file systems refuse names that are not UTF-8")
    name = os.fsencode(pytester.path) + b"/caps\xff.ndjson"
    with open(name, "wb") as f:
        f.write(SAMPLE.read_bytes())
    xml = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess("--telephony-conformance", str(pytester.path), f"--junitxml={xml}")
    assert result.ret == 0, result.stdout.str()
    ET.parse(xml)


# --- paths that cannot be read --------------------------------------------------------------
@pytest.fixture
def locked_tree() -> Iterator[Path]:
    """A world-readable folder with a good capture and a subfolder nobody may read."""
    root = Path(tempfile.mkdtemp(prefix="telephony-locked-"))
    try:
        root.chmod(0o755)
        (root / "ok.ndjson").write_bytes(SAMPLE.read_bytes())
        (root / "ok.ndjson").chmod(0o644)
        locked = root / "locked"
        locked.mkdir()
        (locked / "hidden.ndjson").write_bytes(b"{oops\n")
        locked.chmod(0)
        yield root
    finally:
        (root / "locked").chmod(0o755)
        shutil.rmtree(root)


def _unprivileged(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user without special rights (root reads a folder of mode 000)."""
    if os.geteuid() != 0:
        return cli(*args)
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import conformance"], user=65534, capture_output=True, check=False, cwd="/"
        )
    except PermissionError:
        probe = None
    if probe is None or probe.returncode != 0:
        pytest.skip("this Python cannot be run as user nobody (its environment is not readable to others)")
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", *args], user=65534, capture_output=True, cwd="/", check=False
    )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_an_unreadable_subfolder_fails_the_run_and_is_named(locked_tree: Path) -> None:
    done = _unprivileged("check", str(locked_tree))
    assert done.returncode == 2, done
    locked = str(locked_tree / "locked")
    assert f"telephony-conformance: error: {locked}: cannot read: Permission denied" in done.stderr
    assert "Passed" not in done.stdout
    report = json.loads(_unprivileged("check", "--format", "json", str(locked_tree)).stdout)
    entry = next(c for c in report["captures"] if c["path"] == locked)
    assert [f["rule"] for f in entry["findings"]] == ["C110"] and entry["errors"] == 1
    assert report["summary"]["passed"] is False


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_an_unreadable_folder_given_itself_says_permission_denied(locked_tree: Path) -> None:
    done = _unprivileged("check", str(locked_tree / "locked"))
    assert done.returncode == 2
    assert "Permission denied" in done.stderr and "holds no captures" not in done.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_an_unreadable_file_is_a_finding_in_the_json_report(locked_tree: Path) -> None:
    (locked_tree / "ok.ndjson").chmod(0)
    done = _unprivileged("check", "--format", "json", str(locked_tree / "ok.ndjson"))
    assert done.returncode == 2
    [entry] = json.loads(done.stdout)["captures"]
    assert entry["errors"] == 1 and entry["findings"][0]["rule"] == "C110"
    assert "Permission denied" in entry["findings"][0]["message"]


def test_an_unreadable_subfolder_fails_the_run_whoever_runs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same as above for any user (root reads a folder of mode 000): listing the folder
    fails as it does for an unprivileged user."""
    from conformance.cli import main

    (tmp_path / "ok.ndjson").write_bytes(SAMPLE.read_bytes())
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "hidden.ndjson").write_bytes(b"{oops\n")
    listing = os.scandir

    def scandir(path: str = ".") -> object:
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["check", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert f"{locked}: cannot read: Permission denied" in err
    assert "Passed" not in out and f"{locked}: C110 unreadable (1 error)" in out
    assert main(["check", "--format", "json", str(tmp_path)]) == 2
    report = json.loads(capsys.readouterr().out)
    assert [c["path"] for c in report["captures"]] == [str(locked), str(tmp_path / "ok.ndjson")]
    assert report["captures"][0]["findings"][0]["rule"] == "C110"


# --- runs that cannot finish ----------------------------------------------------------------
def test_a_broken_pipe_is_quiet_and_not_the_findings_code(tmp_path: Path) -> None:
    many = tmp_path / "many.ndjson"
    many.write_bytes(SAMPLE.read_bytes() * 3000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "check", "--format", "json", str(many)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert err == ""


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("RuntimeError('a bug')", r"telephony-conformance: internal error: RuntimeError: a bug \(a bug in "),
        ("MemoryError()", r"telephony-conformance: error: out of memory; the check stopped"),
    ],
)
def test_an_internal_error_is_one_line_and_exit_2(error: str, expected: str) -> None:
    script = (
        "import sys, conformance.cli as cli\n"
        "def broken(*args, **kwargs):\n"
        f"    raise {error}\n"
        "    yield\n"
        "cli.check_file = broken\n"
        f"sys.exit(cli.main(['check', {str(SAMPLE)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert re.match(expected, done.stderr)
    assert "Traceback" not in done.stderr


def test_one_escape_style_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "escapes.ndjson"
    event = {"action": "dialout-connected", "callClientId": "c", "sessionId": "s\x1b", "sipCallId": "x",
             "provider": "daily", "destination": "\x1b[2J\\u001b"}
    path.write_text(json.dumps(event) + "\n")
    out = cli("check", str(path)).stdout
    assert '"\\x1b[2J\\\\u001b"' in out  # the control character as \x1b; a written backslash kept
    assert "\\u001b" not in out.replace("\\\\u001b", "")
