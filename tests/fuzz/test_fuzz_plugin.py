"""The plugin catches every planted bug with the DEFAULT settings, and careful consumers pass."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

BUGS = [
    # (consumer, exception type, a piece of the minimal event)
    ("bug_user_id:handle", "KeyError: 'userId'", '"action": "dialin-connected"'),
    ("bug_error_type:Handler", "AttributeError", '"type": null'),
    ("bug_destination:handle", "ValueError", '"destination": "sip:'),
    ("bug_current_session:Handler", "RuntimeError", '"sessionId"'),
    ("bug_sip_headers:handle", "AttributeError", '"sipHeaders"'),
    ("bug_no_session:Handler", "KeyError: 'sessionId'", '"handler": "on_dialout_error"'),  # an EventHandler
    ("bug_dataclass:handle", "TypeError", "unexpected keyword argument"),
]


@pytest.mark.parametrize(("spec", "exc", "shown"), BUGS, ids=[b[0].split(":")[0] for b in BUGS])
def test_default_settings_catch_each_planted_bug(
    fuzz_dir: pytest.Pytester, fuzz_args: list[str], spec: str, exc: str, shown: str
) -> None:
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", spec)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert exc in out and shown in out
    module = spec.split(":")[0]
    assert f'File "{fuzz_dir.path / module}.py"' in out  # the consumer's own frame
    result.stdout.fnmatch_lines(
        [
            "Minimal failing *",
            "Written to *telephony-fuzz*.ndjson",
            f"Replay:    python -m conformance.consumers {spec} *.ndjson",
            "Check it:  pytest *",
        ]
    )
    written = sorted((fuzz_dir.path / ".pytest_cache" / "d" / "telephony-fuzz").glob("*.ndjson"))
    assert written and all(p.read_text().strip() for p in written)


@pytest.mark.parametrize("spec", ["careful:handle", "careful:handle_async", "careful:Handler"])
def test_careful_python_consumers_pass_even_broken_input(
    fuzz_dir: pytest.Pytester, fuzz_args: list[str], spec: str
) -> None:
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", spec, "--telephony-broken", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["*telephony-fuzz: seed 0*", f"*{spec}::events PASSED*", f"*{spec}::broken-streams PASSED*"]
    )


def test_undeclared_rejection_is_a_failure(fuzz_dir: pytest.Pytester, fuzz_args: list[str]) -> None:
    # careful:handle rejects with ValueError: clean by default, a failure when only KeyError is declared.
    result = fuzz_dir.runpytest(
        *fuzz_args,
        "--telephony-consumer",
        "careful:handle",
        "--telephony-broken",
        "--telephony-reject",
        "KeyError",
        "-k",
        "broken-events",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*failed on a broken (*", "*ValueError*"])


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@needs_node
def test_node_programs(fuzz_dir: pytest.Pytester, fuzz_args: list[str]) -> None:
    result = fuzz_dir.runpytest(
        *fuzz_args,
        "--telephony-consumer-cmd",
        "node bug_no_session.js",
        "--telephony-consumer-cmd",
        "node careful.js",
        "-v",
    )
    result.assert_outcomes(failed=2, passed=2)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(["*node careful*js::events PASSED*", "*node careful*js::streams PASSED*"])
    assert "exited with code 1" in out and "Cannot read properties of undefined" in out  # the stderr
    result.stdout.fnmatch_lines(['*{"action": "dialout-error"*', "Replay:    node bug_no_session.js < *.ndjson"])


def test_fixture_and_function_in_a_users_own_test(fuzz_dir: pytest.Pytester, fuzz_args: list[str]) -> None:
    fuzz_dir.makepyfile(
        test_mine="""
        import pytest
        from conformance.consumers import fuzz_consumer, ConsumerFailed
        import careful, bug_user_id

        def test_fixture(telephony_fuzz):
            assert telephony_fuzz(careful.Handler, examples=10) == []

        def test_fixture_fails(telephony_fuzz):
            telephony_fuzz("bug_user_id:handle", examples=20)

        def test_function():
            with pytest.raises(ConsumerFailed, match="KeyError"):
                fuzz_consumer(bug_user_id.handle, examples=20, families=["events"])
        """
    )
    result = fuzz_dir.runpytest(*fuzz_args, "test_mine.py")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*KeyError: 'userId'*"])


def test_usage_errors(fuzz_dir: pytest.Pytester, fuzz_args: list[str]) -> None:
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", "no_such_module:x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*there is no module 'no_such_module', neither installed*"])
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", "careful:handle", "--telephony-reject", "Nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    # An exception from a package that is not installed is named as written, and why.
    result = fuzz_dir.runpytest(
        *fuzz_args, "--telephony-consumer", "careful:handle", "--telephony-reject", "nopkg.ValidationError"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cannot load 'nopkg.ValidationError': there is no module 'nopkg', *"])


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("no-such-prog", "'no-such-prog' is not a program on PATH"),
        ("./no-such-app.js", "'./no-such-app.js' does not exist"),
        ("node 'app.js", "cannot be split into words"),
    ],
)
def test_a_program_that_cannot_run_is_one_usage_line(
    fuzz_dir: pytest.Pytester, fuzz_args: list[str], command: str, said: str
) -> None:
    # "no-such-prog" printed 3,362 lines of pytest internals ending in FileNotFoundError.
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer-cmd", command)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1 and said in errors[0] and "--telephony-consumer-cmd" in errors[0], errors
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


STREAM_BUGS = """
def warnings(event):
    if event["action"] == "dialin-warning":
        raise RuntimeError("warnings are not handled")

def answered(event):
    if event["action"] == "dialout-answered":
        raise KeyError("answered")

class AnsweredAfterConnected:  # an EventHandler: a fresh one per stream
    def __init__(self):
        self.opened = set()

    def on_dialout_connected(self, data):
        self.opened.add(data.get("sessionId"))

    def on_dialout_answered(self, data):
        if data.get("sessionId") in self.opened:
            raise LookupError("a call answered")
"""


@pytest.mark.parametrize(("spec", "events"), [("warnings", 1), ("answered", 1), ("AnsweredAfterConnected", 2)])
def test_a_failing_stream_is_shrunk_to_the_events_that_fail(
    fuzz_dir: pytest.Pytester, fuzz_args: list[str], spec: str, events: int
) -> None:
    # hypothesis shrinks a stream a session at a time: it left 2 or 3 events where 1 fails.
    fuzz_dir.makepyfile(stream_bugs=STREAM_BUGS)
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", f"stream_bugs:{spec}", "-k", "streams")
    result.assert_outcomes(failed=1)
    plural = "s" if events > 1 else ""
    result.stdout.fnmatch_lines([f"Minimal failing stream ({events} event{plural}):"])
    result.stdout.fnmatch_lines(["Check it:  pytest --telephony-conformance * --telephony-partial *"])


# --- programs kept running across streams -------------------------------------------------
@needs_node
def test_a_looping_program_is_started_once(
    fuzz_dir: pytest.Pytester, fuzz_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One process per stream: a trivial Node.js consumer took 66 s with --telephony-broken.
    starts = fuzz_dir.path / "starts.txt"
    monkeypatch.setenv("LOOP_STARTS", str(starts))
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer-loop", "node careful_loop.js", "--telephony-broken")
    result.assert_outcomes(passed=4)
    assert len(starts.read_text().split()) == 1


@needs_node
def test_a_looping_program_that_crashes_is_restarted_and_replayed(
    fuzz_dir: pytest.Pytester, fuzz_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = fuzz_dir.path / "starts.txt"
    monkeypatch.setenv("LOOP_STARTS", str(starts))
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer-loop", "node bug_loop.js")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "node bug_loop.js failed on a valid stream (streams): exited with code 1 before answering",
            "*TypeError: Cannot read properties of undefined (reading 'length')*",
            "Minimal failing stream (1 event):",
            '  {"action": "dialout-error"*',
            "Replay:    node bug_loop.js < *.ndjson",
        ]
    )
    assert len(starts.read_text().split()) > 2  # restarted after each crash
    # The replay command: the end of input ends the stream.
    written = next((fuzz_dir.path / ".pytest_cache" / "d" / "telephony-fuzz").glob("*--streams-*.ndjson"))
    with written.open("rb") as stdin:
        replay = subprocess.run(["node", "bug_loop.js"], stdin=stdin, capture_output=True, cwd=fuzz_dir.path)
    assert replay.returncode != 0 and b"TypeError" in replay.stderr


def test_a_looping_program_answers_each_stream(fuzz_dir: pytest.Pytester, fuzz_args: list[str]) -> None:
    # "rejected" is a clean rejection of broken input, and a failure on valid input; other
    # lines on stdout are shown with the failure.
    command = f"{sys.executable} loop_rejecting.py"
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer-loop", command, "-k", "events")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "* failed on a valid event (events): answered 'rejected' to a valid stream",
            "*(stdout) log: a stream of * events",
            '  {"action": "dialin-warning"*',
        ]
    )
