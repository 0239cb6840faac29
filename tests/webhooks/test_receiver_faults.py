"""What goes wrong around a receiver, told plainly: an app that raises, bodies curl must send
byte for byte, a secret kept out of sight, deliveries sent to the wrong path, a route given
for an app, and a server that is not there."""

from __future__ import annotations

import base64
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("schemathesis")
pytest.importorskip("flask")

from conformance.receivers import Receiver, Signer, check_receiver, curl_command
from conformance.receivers.settings import SECRET_ENV, ReceiverSettings

RECEIVERS = Path(__file__).parent / "receivers"
PLUGIN = ("-p", "conformance.receivers.plugin")
SECRET = base64.b64encode(b"a webhook secret of our own").decode()


@pytest.fixture
def folder(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(flask_receiver=(RECEIVERS / "flask_receiver.py").read_text())
    return pytester


# --- an answer that would drive a terminal ---------------------------------------------------
def _hostile_answer_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read()
    start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
    return [b"\x1b[31mRED\x1b[0m\n::error file=x::forged\r\x07"]


def test_an_answer_s_control_characters_are_escaped_in_the_failure() -> None:
    failures = check_receiver(Receiver.from_app(_hostile_answer_app), fuzz_examples=0)
    shown = str(failures[0])
    assert "response: \\x1b[31mRED\\x1b[0m ::error file=x::forged \\x07" in shown
    assert "\x1b" not in shown and "\x07" not in shown and shown.count("\n") == 2  # its own three lines


# --- a WSGI app that raises -----------------------------------------------------------------
def _raising_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raw = environ["wsgi.input"].read()
    if b'"type":"dialin.connected"' in raw:
        raise ZeroDivisionError("a bug in the receiver")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


def _lazily_raising_app(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", [("Content-Type", "application/json")])
    yield b"{"
    raise ValueError("a generator that breaks while it is read")


def test_a_wsgi_app_that_raises_answers_500_and_every_delivery_is_sent() -> None:
    # It ended the receiver check with a 1,140-line traceback, the other deliveries unsent.
    failures = check_receiver(Receiver.from_app(_raising_app), fuzz_examples=0)
    assert failures and {f.status for f in failures} == {500}
    assert all("dialin.connected" in f.curl for f in failures)
    assert "ZeroDivisionError: a bug in the receiver" in failures[0].response
    lazy = check_receiver(Receiver.from_app(_lazily_raising_app), fuzz_examples=0)
    assert lazy and {f.status for f in lazy} == {500}


# --- curl reproductions ---------------------------------------------------------------------
FAKE_CURL = """#!{python}
import sys
args = sys.argv[1:]
data = args[args.index("--data-binary") + 1]
if data == "@-":
    sent = sys.stdin.buffer.read()
elif data.startswith("@"):  # as curl does: a file's contents
    sent = open(data[1:], "rb").read()
else:
    sent = data.encode("utf-8", "surrogateescape")
open(sys.argv[0] + ".sent", "wb").write(sent)
"""


@pytest.mark.parametrize(
    "body",
    [
        b'{"type":"dialin.connected","payload":{"sip_from":"caf\xc3\xa9"}}',
        b'{"payload":{"room":"\xff\xfe"}}',  # not UTF-8
        b'{"a":"\x00\x1b]0;title\x07 %s %% \\ \'quoted\' $HOME `id`"}',  # NUL, ESC, printf and shell syntax
        b"@/etc/passwd",  # curl would read a file
        b"",
    ],
)
def test_a_curl_reproduction_sends_the_very_bytes(tmp_path: Path, body: bytes) -> None:
    # A literal \\xff in the command made curl send other bytes.
    curl = tmp_path / "curl"
    curl.write_text(FAKE_CURL.format(python=sys.executable))
    curl.chmod(curl.stat().st_mode | stat.S_IXUSR)
    command = curl_command("http://127.0.0.1:8000/", body, {"X-Webhook-Timestamp": "1"})
    assert command.isprintable()  # nothing raw reaches a terminal
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["sh", "-c", command], env=env, check=True, timeout=30)
    assert (tmp_path / "curl.sent").read_bytes() == body


# --- the webhook secret ----------------------------------------------------------------------
def test_the_secret_comes_from_the_environment_and_stays_out_of_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    # On the command line, every user of the machine saw it in the process list.
    monkeypatch.setenv(SECRET_ENV, SECRET)
    options = {
        "telephony_receiver_url": "http://127.0.0.1:9/",
        "telephony_receiver_app": None,
        "telephony_receiver_path": "/",
        "telephony_receiver_body": "webhook",
        "telephony_strict_rejection": False,
        "telephony_webhook_secret": None,
        "telephony_signed_string": None,
        "telephony_signature_header": "X-Webhook-Signature",
        "telephony_timestamp_header": "X-Webhook-Timestamp",
        "telephony_receiver_timeout": 5.0,
        "telephony_receiver_examples": 0,
        "telephony_receiver_max_failures": 10,
    }
    settings = ReceiverSettings.from_options(options.__getitem__)
    assert settings is not None and settings.signer is not None
    assert settings.signer.secret == SECRET
    assert SECRET not in repr(settings.signer) and SECRET not in repr(settings)
    assert SECRET not in repr(Signer(SECRET)) and SECRET not in repr(Signer.from_template(SECRET))


def test_a_receiver_verifying_signatures_passes_with_the_secret_from_the_environment(
    folder: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder.makepyfile(verifying=f"from flask_receiver import make_app\napp = make_app(secret={SECRET!r})\n")
    monkeypatch.setenv(SECRET_ENV, SECRET)
    result = folder.runpytest_subprocess(
        *PLUGIN, "--telephony-receiver-app", "verifying:app", "--telephony-receiver-examples=0"
    )
    result.assert_outcomes(passed=7)
    assert SECRET not in result.stdout.str()


# --- mistakes in how the receiver is given ----------------------------------------------------
def test_every_answer_a_404_points_at_the_path_option(folder: pytest.Pytester) -> None:
    folder.makepyfile(
        mounted="""
        from flask import Flask
        from flask_receiver import make_app
        from werkzeug.middleware.dispatcher import DispatcherMiddleware

        app = Flask(__name__)
        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/webhooks": make_app()})
        """
    )
    result = folder.runpytest_subprocess(
        *PLUGIN, "--telephony-receiver-app", "mounted:app", "--telephony-receiver-examples=0", "-k", "valid"
    )
    result.assert_outcomes(failed=1, deselected=6)
    result.stdout.fnmatch_lines(
        [
            "*deliveries broke [[]valid[]]*",
            "Every answer was HTTP 404 Not Found: is the endpoint at another path than /? "
            "Give it with --telephony-receiver-path*",
        ]
    )
    right = folder.runpytest_subprocess(
        *PLUGIN, "--telephony-receiver-app", "mounted:app", "--telephony-receiver-path", "/webhooks/",
        "--telephony-receiver-examples=0", "-k", "valid",
    )  # fmt: skip
    right.assert_outcomes(passed=1, deselected=6)


@pytest.mark.parametrize(
    ("module", "said"),
    [
        ("from flask import Flask\napp = Flask(__name__)\n@app.post('/')\ndef receive():\n    return 'ok'\n",
         "it is a function taking ()"),
        ("async def receive(request):\n    return None\n", "it is an async function taking (request)"),
        ("receive = 'not an app'\n", "it is str, not callable"),
    ],
)  # fmt: skip
def test_a_route_given_for_an_app_is_a_usage_error(folder: pytest.Pytester, module: str, said: str) -> None:
    folder.makepyfile(routes=module)
    result = folder.runpytest_subprocess(*PLUGIN, "--telephony-receiver-app", "routes:receive")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1 and said in errors[0] and "not a route function" in errors[0], errors


def test_a_server_that_is_not_there_is_one_message(folder: pytest.Pytester) -> None:
    # Six failed items full of ConnectError.
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    result = folder.runpytest_subprocess(*PLUGIN, f"--telephony-receiver-url={url}", "--telephony-receiver-examples=0")
    result.assert_outcomes(failed=1, skipped=6)
    out = result.stdout.str()
    assert out.count("ConnectError") == 0 and out.count(f"nothing answers at {url}") >= 1
    result.stdout.fnmatch_lines([f"nothing answers at {url} (*): start the receiver first, *--telephony-receiver-url*"])
