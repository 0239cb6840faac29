"""Where a failing stream is written, and how: under pytest's cache folder, in a folder of the
user's own, never through a planted link; and the failure is shown whole when nothing can be
written. The seed is in every failure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.fuzz.consumers import Outcome
from conformance.fuzz.failures import ConsumerFailure, write_failure

CACHED = Path(".pytest_cache") / "d" / "telephony-fuzz"


def _failure() -> ConsumerFailure:
    return ConsumerFailure(
        consumer="bug_user_id:handle",
        family="events",
        events=[{"action": "dialin-connected", "sessionId": "s"}],
        outcome=Outcome("failed", reason="KeyError: 'userId'"),
        seed=7,
    )


def _replay(path: str) -> str:
    return f"python -m conformance.consumers bug_user_id:handle {path}"


def test_a_failing_stream_goes_to_pytests_cache_not_the_project(
    fuzz_dir: pytest.Pytester, fuzz_args: list[str]
) -> None:
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", "bug_user_id:handle", "-k", "events")
    result.stdout.fnmatch_lines([f"Written to {fuzz_dir.path / CACHED}{os.sep}bug_user_id-handle--events-*.ndjson"])
    assert list((fuzz_dir.path / CACHED).glob("*.ndjson"))
    assert not (fuzz_dir.path / ".telephony-fuzz").exists()
    assert "*" in (fuzz_dir.path / ".pytest_cache" / ".gitignore").read_text().splitlines()  # pytest's own
    # With pytest's cache off, the folder of old, in the root folder.
    result = fuzz_dir.runpytest(
        *fuzz_args, "-p", "no:cacheprovider", "--telephony-consumer", "bug_user_id:handle", "-k", "events"
    )
    result.stdout.fnmatch_lines([f"Written to {fuzz_dir.path / '.telephony-fuzz'}{os.sep}*.ndjson"])


def test_nothing_writable_still_shows_the_failure_and_says_why(
    fuzz_dir: pytest.Pytester, fuzz_args: list[str]
) -> None:
    # A read-only working folder gave a PermissionError traceback instead of the failure.
    (fuzz_dir.path / "blocked").write_text("a file where the cache folder should be")
    result = fuzz_dir.runpytest(
        *fuzz_args,
        "-o",
        "cache_dir=blocked/cache",
        "-W",
        "ignore::pytest.PytestCacheWarning",
        "--telephony-consumer",
        "bug_user_id:handle",
        "-k",
        "events",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "Traceback" not in out.split("Minimal failing")[1]
    result.stdout.fnmatch_lines(
        [
            "Minimal failing event (1 event):",
            '  {"action": "dialin-connected"*',
            "Not written to a file: *blocked*: * The events above are the whole stream.",
        ]
    )


def test_a_planted_link_is_never_followed(tmp_path: Path) -> None:
    # A symlink at the name the file used to get made a root run overwrite a root-only file.
    victim = tmp_path / "victim"
    victim.write_text("root-only\n")
    folder = tmp_path / "failures"
    folder.mkdir(mode=0o700)
    (folder / "bug_user_id-handle--events.ndjson").symlink_to(victim)
    failure = _failure()
    write_failure(failure, folder, _replay)
    assert victim.read_text() == "root-only\n"
    assert failure.path is not None and failure.path.parent == folder and not failure.path.is_symlink()
    assert failure.path.read_text().startswith('{"action": "dialin-connected"')
    assert failure.path.stat().st_mode & 0o077 == 0


def test_a_linked_or_foreign_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = tmp_path / "linked"
    linked.symlink_to(elsewhere)
    failure = _failure()
    write_failure(failure, linked, _replay)
    assert failure.path is None and not list(elsewhere.iterdir())
    assert "symbolic link" in failure.unwritten
    assert "Not written to a file: " in failure.render() and '"dialin-connected"' in failure.render()
    # mkdir(exist_ok=True) accepted a folder another user made, where they could swap the file.
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    monkeypatch.setattr(os, "getuid", lambda: os.stat(theirs).st_uid + 1)
    failure = _failure()
    write_failure(failure, theirs, _replay)
    assert failure.path is None and "belongs to another user" in failure.unwritten
    assert not list(theirs.iterdir())


def test_every_failure_shows_its_seed(fuzz_dir: pytest.Pytester, fuzz_args: list[str]) -> None:
    # --telephony-seed random under -q never showed the seed (only the header did, which -q hides).
    args = [*fuzz_args, "-q", "--telephony-consumer", "bug_user_id:handle", "-k", "events"]
    result = fuzz_dir.runpytest(*args, "--telephony-seed", "random")
    assert "seed " not in result.stdout.str().split("Minimal failing")[0]  # -q: no header
    seeds = re.findall(r"^Seed: +(\d+) \(--telephony-seed \1, or seed=\1,", result.stdout.str(), re.MULTILINE)
    assert len(seeds) == 1
    again = fuzz_dir.runpytest(*args, "--telephony-seed", seeds[0])
    minimal = [line for line in result.stdout.lines if line.startswith("  {")]
    assert minimal and minimal == [line for line in again.stdout.lines if line.startswith("  {")]


@pytest.mark.parametrize(
    ("spec", "file", "said"),
    [
        ("no_such_module:x", "stream.ndjson", "replay: cannot load 'no_such_module:x': there is no module"),
        ("handlers:on_event", "missing.ndjson", "replay: cannot read missing.ndjson: No such file or directory"),
        ("handlers:on_event", "garbage.ndjson", "replay: garbage.ndjson is not a written stream"),
    ],
)
def test_a_replay_that_cannot_start_is_one_line(tmp_path: Path, spec: str, file: str, said: str) -> None:
    (tmp_path / "handlers.py").write_text("def on_event(event):\n    pass\n")
    (tmp_path / "stream.ndjson").write_text('{"action": "dialin-ready", "sipEndpoint": "sip:a@b"}\n')
    (tmp_path / "garbage.ndjson").write_text("{oops\n")
    done = subprocess.run(
        [sys.executable, "-m", "conformance.consumers", spec, file],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(said) and len(done.stderr.strip().splitlines()) == 1, done.stderr
