"""Fuzzing what Python bots really run: daily-python EventHandlers fed daily-python's shapes, and
pipecat bots' handlers called as pipecat calls them, with the default settings."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

pytest.importorskip("daily", reason="daily-python is not installed (the pipecat extra)")

HANDLER_BUGS = [
    # (consumer, what the report says, a piece of the minimal event)
    ("dp_error_msg:Handler", "KeyError: 'errorMsg'", '"handler": "on_dialin_error"'),
    ("dp_async:Handler", "on_dialin_connected is async def: daily-python", '"handler": "on_dialin_connected"'),
]


def test_a_handler_written_from_daily_pythons_docs_passes(fuzz_dir: pytest.Pytester, fuzz_args: list[str]) -> None:
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", "dp_docs:Handler")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(("spec", "said", "shown"), HANDLER_BUGS, ids=[b[0].split(":")[0] for b in HANDLER_BUGS])
def test_a_handler_relying_on_what_daily_python_does_not_do_fails(
    fuzz_dir: pytest.Pytester, fuzz_args: list[str], spec: str, said: str, shown: str
) -> None:
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", spec, "-k", "events and not broken")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert said in out and shown in out, out[-3000:]
    # The stream is written as what the handler received (recorded daily-python callbacks):
    # the printed check command finds it valid, as the fuzzer said, and the replay fails again.
    [written] = (fuzz_dir.path / ".pytest_cache" / "d" / "telephony-fuzz").glob("*.ndjson")
    check = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "check", "--partial", "--allow-empty", str(written)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout
    assert "1 event" in check.stdout and "daily-python" not in check.stdout
    replay = subprocess.run(
        [sys.executable, "-m", "conformance.consumers", spec, str(written)],
        capture_output=True,
        text=True,
        cwd=fuzz_dir.path,
        timeout=60,
    )
    assert replay.returncode == 1, replay.stderr[-2000:]


def test_the_data_a_handler_gets_has_no_daily_js_keys_it_cannot_count_on() -> None:
    # Not once, in a whole default run, does a documented daily-python key go missing; and the
    # daily-js keys daily-python does not promise are both there and not there.
    from hypothesis import given, settings

    from conformance.fuzz.consumers import daily_python_call
    from conformance.strategies import events
    from conformance.surfaces import DAILY_PYTHON_DOCUMENTED

    seen: dict[tuple[str, bool], int] = {}

    @settings(max_examples=200, database=None, derandomize=True)
    @given(events("dialin-error", surface="daily-python"))
    def look(event: dict[str, object]) -> None:
        call = daily_python_call(event)
        assert call is not None
        name, data = call
        assert name == "on_dialin_error" and isinstance(data, dict)
        assert set(DAILY_PYTHON_DOCUMENTED["dialin-error"]) <= set(data)
        assert "action" not in data and "callClientId" not in data
        seen["errorMsg", "errorMsg" in data] = seen.get(("errorMsg", "errorMsg" in data), 0) + 1

    look()
    assert seen.get(("errorMsg", True)) and seen.get(("errorMsg", False))


def test_a_class_that_cannot_be_built_is_a_usage_error(fuzz_dir: pytest.Pytester, fuzz_args: list[str]) -> None:
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", "dp_bad_init:Handler")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cannot construct dp_bad_init:Handler: TypeError*no arguments*"])


# --- pipecat ------------------------------------------------------------------------------------
PIPECAT_BUGS = [
    # (factory, what the report says, a piece of the minimal event)
    ("pipecat_bots:bug_dialout_error_session", "KeyError: 'sessionId'", '"handler": "on_dialout_error"'),
    ("pipecat_bots:bug_endpoint_as_dict", "TypeError", '"handler": "on_dialin_ready"'),
    ("pipecat_bots:bug_sip_call_id", "KeyError: 'sipCallId'", '"handler": "on_dialin_connected"'),
    ("pipecat_bots:bug_sync_handler", "IndexError", '"handler": "on_dialin_stopped"'),
]


@pytest.fixture
def pipecat_dir(fuzz_dir: pytest.Pytester) -> pytest.Pytester:
    # Looked for, not imported: numpy, which pipecat imports, cannot be imported again in a
    # process after pytester's in-process runs drop it from sys.modules. The runs that import
    # pipecat are subprocesses.
    if importlib.util.find_spec("pipecat") is None:
        pytest.skip("pipecat-ai is not installed (the pipecat extra)")
    return fuzz_dir


@pytest.mark.parametrize("spec", ["pipecat_bots:careful", "pipecat_bots:careful_async"])
def test_a_careful_pipecat_bot_passes(pipecat_dir: pytest.Pytester, fuzz_args: list[str], spec: str) -> None:
    result = pipecat_dir.runpytest_subprocess(*fuzz_args, "--telephony-pipecat", spec, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*{spec}::streams PASSED*"])


@pytest.mark.parametrize(("spec", "said", "shown"), PIPECAT_BUGS, ids=[b[0].split(":")[1] for b in PIPECAT_BUGS])
def test_each_planted_pipecat_bug_is_caught_with_the_bots_own_traceback(
    pipecat_dir: pytest.Pytester, fuzz_args: list[str], spec: str, said: str, shown: str
) -> None:
    result = pipecat_dir.runpytest_subprocess(*fuzz_args, "--telephony-pipecat", spec)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert said in out and shown in out, out[-3000:]
    assert f'File "{pipecat_dir.path / "pipecat_bots.py"}"' in out  # the bot's own frame
    result.stdout.fnmatch_lines(
        [
            "Minimal failing *",
            "Written to *telephony-fuzz*.ndjson",
            f"Replay:    python -m conformance.consumers --pipecat {spec} *.ndjson",
        ]
    )
    # The replay command runs the same handlers on the written stream, and fails the same way.
    written = next((pipecat_dir.path / ".pytest_cache" / "d" / "telephony-fuzz").glob("*.ndjson"))
    replay = subprocess.run(
        [sys.executable, "-m", "conformance.consumers", "--pipecat", spec, str(written)],
        capture_output=True,
        text=True,
        cwd=pipecat_dir.path,
        timeout=120,
    )
    assert replay.returncode == 1 and said.split(":")[0] in replay.stderr, replay.stderr[-2000:]


def test_a_factory_that_returns_no_transport_is_a_usage_error(
    pipecat_dir: pytest.Pytester, fuzz_args: list[str]
) -> None:
    result = pipecat_dir.runpytest_subprocess(*fuzz_args, "--telephony-pipecat", "pipecat_bots:not_a_transport")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*not a pipecat transport*"])


def test_a_misspelt_handler_or_a_class_without_handlers_is_a_usage_error(
    fuzz_dir: pytest.Pytester, fuzz_args: list[str]
) -> None:
    fuzz_dir.makepyfile(
        odd_handlers=(
            "class Misspelt:\n"
            "    def on_dialin_conected(self, data):  # daily-python never calls it\n"
            "        pass\n"
            "    def on_dialin_stopped(self, data):\n"
            "        pass\n"
            "class NoHandlers:\n"
            "    pass\n"
        )
    )
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", "odd_handlers:Misspelt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*odd_handlers:Misspelt has on_dialin_conected (did you mean on_dialin_connected?)*"])
    result = fuzz_dir.runpytest(*fuzz_args, "--telephony-consumer", "odd_handlers:NoHandlers")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*odd_handlers:NoHandlers is a class with no daily-python EventHandler method*"])
