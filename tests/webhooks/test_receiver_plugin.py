"""The receiver plugin (``conformance/receivers/plugin.py``) run as users run it: ``pytest
--telephony-receiver-app MODULE:APP`` in a folder with no tests and no conftest, in a
subprocess. Each planted bug of the Flask receiver fails exactly its check family, with a
curl line; careful Flask and Starlette receivers (one verifying signatures) pass.

Subprocesses run with plugin autoloading off and ``-p conformance.receivers.plugin``: that
keeps them fast (no third-party plugins), and it works the same whether or not the plugin
is registered as a ``pytest11`` entry point (with autoloading off the entry point is not
loaded, so ``-p`` never registers it twice). One test loads it through the entry point,
once it is registered.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("schemathesis")
pytest.importorskip("flask")

from conformance.receivers.plugin import plugin_is_registered
from conformance.receivers.settings import EXTRA_HINT

RECEIVERS = Path(__file__).parent / "receivers"
PLUGIN = ("-p", "conformance.receivers.plugin")
SECRET = base64.b64encode(b"a webhook secret of our own").decode()
CHECKS = ("valid", "broken", "non-event", "signature", "stream", "retry", "out-of-order")  # a webhook receiver's
# Each planted bug of the Flask receiver: the check family that must catch it, and the
# families it may also fail (an `origin.lower()` that breaks on a missing origin breaks on
# `"origin": null` too); every other family must pass.
CAUGHT_BY: dict[str, tuple[str, set[str]]] = {
    "missing-optional": ("valid", {"broken"}),  # 500 on a missing optional field
    "unknown-type": ("non-event", set()),  # 500 on an unknown type
    "non-event-500": ("non-event", set()),  # 500 on a body that is not an event
    "null-field": ("broken", set()),  # 500 on a null field
    "repeat": ("retry", set()),  # 500 on a repeated delivery
}


@pytest.fixture
def folder(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """An empty folder holding only the receivers' modules; autoloading off (see the module doc)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    for name in ("flask_receiver", "starlette_receiver"):
        pytester.makepyfile(**{name: (RECEIVERS / f"{name}.py").read_text()})
    return pytester


def _app(folder: pytest.Pytester, name: str, line: str) -> str:
    folder.makepyfile(**{name: f"from flask_receiver import make_app\napp = {line}\n"})
    return f"{name}:app"


def _failed_checks(result: pytest.RunResult) -> set[str]:
    return {
        line.split("::")[-1].split(" ")[0] for line in result.outlines if line.startswith("FAILED telephony-receiver")
    }


def test_careful_flask_receiver_passes_and_project_tests_are_not_collected(folder: pytest.Pytester) -> None:
    folder.makepyfile(test_unrelated="def test_not_collected():\n    assert False\n")
    result = folder.runpytest_subprocess(
        *PLUGIN, "--telephony-receiver-app", "flask_receiver:app", "--telephony-receiver-examples", "5", "-v", "-rs"
    )
    result.assert_outcomes(passed=6, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*telephony-conformance receiver: app flask_receiver:app at / (webhook bodies*",
            "*telephony-receiver::flask_receiver:app::valid PASSED*",
            "*::signature SKIPPED*",
            "*no --telephony-webhook-secret: signatures are not checked*",
        ]
    )
    assert "test_not_collected" not in result.stdout.str()


def test_careful_starlette_receiver_passes(folder: pytest.Pytester) -> None:
    result = folder.runpytest_subprocess(
        *PLUGIN, "--telephony-receiver-app=starlette_receiver:app", "--telephony-receiver-examples=5"
    )
    result.assert_outcomes(passed=6, skipped=1)


@pytest.mark.parametrize("bug", sorted(CAUGHT_BY))
def test_each_planted_flask_bug_is_caught_by_its_check(folder: pytest.Pytester, bug: str) -> None:
    spec = _app(folder, "buggy", f"make_app({bug!r})")
    result = folder.runpytest_subprocess(*PLUGIN, "--telephony-receiver-app", spec, "--telephony-receiver-examples=0")
    check, also = CAUGHT_BY[bug]
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    failed = _failed_checks(result)
    assert check in failed and failed <= {check, *also}, result.stdout.str()
    result.stdout.fnmatch_lines([f"*deliveries broke [[]{check}[]]*", f"[[]{check}[]] *: expected *, got HTTP *"])
    result.stdout.fnmatch_lines(
        ["  reproduce: curl -i -X POST http://127.0.0.1:8000/ -H 'Content-Type: application/json'*"]
    )


def test_signature_checks_run_against_a_verifying_receiver(folder: pytest.Pytester) -> None:
    careful = _app(folder, "verifying", f"make_app(secret={SECRET!r})")
    result = folder.runpytest_subprocess(
        *PLUGIN,
        "--telephony-receiver-app",
        careful,
        "--telephony-webhook-secret",
        SECRET,
        "--telephony-receiver-examples=0",
        "-v",
    )
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["*::signature PASSED*"])


def test_a_receiver_that_ignores_signatures_is_caught(folder: pytest.Pytester) -> None:
    lax = _app(folder, "lax", f"make_app('ignores-signature', secret={SECRET!r})")
    result = folder.runpytest_subprocess(
        *PLUGIN,
        "--telephony-receiver-app",
        lax,
        "--telephony-webhook-secret",
        SECRET,
        "--telephony-receiver-examples=0",
    )
    assert _failed_checks(result) == {"signature"}
    result.stdout.fnmatch_lines(
        [
            "*3 of 3 deliveries broke [[]signature[]]*",
            "*signed with the wrong secret: expected 401/403, got HTTP 200*",
            "*  reproduce: curl * -H 'X-Webhook-Signature: *' -H 'X-Webhook-Timestamp: *",
        ]
    )


def test_a_different_signed_string_is_refused_by_the_receiver(folder: pytest.Pytester) -> None:
    """The signed string is configurable; a wrong one makes valid deliveries get 401s."""
    careful = _app(folder, "verifying", f"make_app(secret={SECRET!r})")
    result = folder.runpytest_subprocess(
        *PLUGIN,
        "--telephony-receiver-app",
        careful,
        "--telephony-webhook-secret",
        SECRET,
        "--telephony-receiver-examples=0",
        "--telephony-signed-string",
        "{timestamp}:{body}",
        "-k",
        "valid",
    )
    result.assert_outcomes(failed=1, deselected=6)
    result.stdout.fnmatch_lines(["*expected 2xx, got HTTP 401*"])


def test_usage_errors(folder: pytest.Pytester) -> None:
    both = folder.runpytest_subprocess(
        *PLUGIN, "--telephony-receiver-app=flask_receiver:app", "--telephony-receiver-url=http://127.0.0.1:9/"
    )
    assert both.ret == pytest.ExitCode.USAGE_ERROR
    both.stderr.fnmatch_lines(["*not both*"])
    missing = folder.runpytest_subprocess(*PLUGIN, "--telephony-receiver-app=nowhere:app")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*cannot load 'nowhere:app': there is no module 'nowhere'*"])
    bad_secret = folder.runpytest_subprocess(
        *PLUGIN, "--telephony-receiver-app=flask_receiver:app", "--telephony-webhook-secret=not base64!"
    )
    assert bad_secret.ret == pytest.ExitCode.USAGE_ERROR
    bad_secret.stderr.fnmatch_lines(["*secret must be base64*"])


def test_without_schemathesis(folder: pytest.Pytester) -> None:
    """Users without the extra: unaffected until they ask for a receiver, then told what to install."""
    folder.makepyfile(schemathesis="raise ImportError('schemathesis is not installed')")
    folder.makepyfile(test_plain="def test_plain():\n    pass\n")
    plain = folder.runpytest_subprocess(*PLUGIN, "test_plain.py")
    plain.assert_outcomes(passed=1)
    asked = folder.runpytest_subprocess(*PLUGIN, "--telephony-receiver-app=flask_receiver:app")
    assert asked.ret == pytest.ExitCode.USAGE_ERROR
    assert f"needs schemathesis: {EXTRA_HINT}" in asked.stderr.str()


def test_the_plugin_module_imports_without_the_extra() -> None:
    code = (
        "import sys\n"
        "for name in ('schemathesis', 'httpx', 'hypothesis', 'starlette', 'flask'):\n"
        "    sys.modules[name] = None  # any import of these now fails\n"
        "import conformance.receivers.plugin\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(not plugin_is_registered(), reason="the pytest11 entry point is not registered yet")
def test_loaded_through_its_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(flask_receiver=(RECEIVERS / "flask_receiver.py").read_text())
    result = pytester.runpytest_subprocess(
        "--telephony-receiver-app=flask_receiver:app", "--telephony-receiver-examples=0", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=6, skipped=1)


# --- what is not an event: never a 5xx, and a 2xx as right as a 4xx (Daily's test request) ---------
def test_a_receiver_answering_200_to_what_is_not_an_event_passes(folder: pytest.Pytester) -> None:
    # Daily sends a test request when a webhook is created and wants a 200 (reference 9.4); Daily
    # adds types. A receiver that acknowledges every body it cannot use is right to.
    folder.makepyfile(
        lenient=(
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "@app.post('/')\n"
            "def receive():\n"
            "    request.get_data()\n"
            "    return {'ok': True}, 200\n"
        )
    )
    for extra in ((), ("--telephony-strict-rejection", "-k", "non-event")):
        result = folder.runpytest_subprocess(
            *PLUGIN, "--telephony-receiver-app=lenient:app", "--telephony-receiver-examples=0", *extra
        )
        assert "non-event" not in _failed_checks(result), result.stdout.str()[-2000:]


# --- the pinless dial-in call (room_creation_api) -------------------------------------------------
PINLESS = ("--telephony-receiver-body", "pinless-dialin", "--telephony-receiver-examples=20")


def _pinless(folder: pytest.Pytester, bug: str | None) -> pytest.RunResult:
    folder.makepyfile(pinless_receiver=(RECEIVERS / "pinless_receiver.py").read_text())
    folder.makepyfile(pinless_app=f"from pinless_receiver import make_app\napp = make_app({bug!r})\n")
    return folder.runpytest_subprocess(*PLUGIN, "--telephony-receiver-app=pinless_app:app", *PINLESS, "-v")


def test_a_careful_pinless_dialin_server_passes(folder: pytest.Pytester) -> None:
    result = _pinless(folder, None)
    result.assert_outcomes(passed=4, skipped=1)  # valid, broken, non-event, verification; no secret
    result.stdout.fnmatch_lines(["*::verification PASSED*"])


@pytest.mark.parametrize(
    ("bug", "family", "shown"),
    [
        ("array-500", "non-event", "a JSON array: expected not-5xx, got HTTP 500"),
        ("verification-500", "verification", 'request {"To":"+12098888888"}: expected not-5xx, got HTTP 500'),
        ("no-headers-500", "valid", "without its optional 'sipHeaders': expected 2xx, got HTTP 500"),
    ],
)
def test_each_planted_pinless_bug_is_caught(folder: pytest.Pytester, bug: str, family: str, shown: str) -> None:
    result = _pinless(folder, bug)
    assert family in _failed_checks(result), result.stdout.str()[-3000:]
    assert shown in result.stdout.str()


def test_a_4xx_to_the_verification_request_passes_with_a_note(folder: pytest.Pytester) -> None:
    result = _pinless(folder, "verification-400")
    result.assert_outcomes(passed=4, skipped=1)
    result.stdout.fnmatch_lines(["*notes*", "Daily's verification request * got HTTP 400; 2xx is recommended"])
