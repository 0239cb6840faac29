"""``pytest --telephony-receiver-url URL`` against a real uvicorn server on 127.0.0.1.

The server runs in a thread of the test process on a socket the test binds itself (port 0:
a free port, no race), is waited for with a bounded loop, and is always shut down. The
plugin runs in a subprocess, as users run it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("schemathesis")
pytest.importorskip("uvicorn")

import uvicorn

from .receivers.starlette_receiver import make_app

PLUGIN = ("-p", "conformance.receivers.plugin")
READY_WITHIN = 10.0  # seconds


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """``serve(app)`` starts uvicorn on 127.0.0.1 and returns the receiver's URL."""
    running: list[tuple[Any, threading.Thread, socket.socket]] = []

    def start(app: Any) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, lifespan="off", ws="none", log_level="critical", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        running.append((server, thread, sock))
        thread.start()
        deadline = time.monotonic() + READY_WITHIN
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"uvicorn did not start within {READY_WITHIN:g}s")
            time.sleep(0.02)
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}/"

    yield start
    for server, thread, sock in running:
        server.should_exit = True
        thread.join(timeout=READY_WITHIN)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not shut down"


@pytest.fixture
def folder(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester


def test_careful_receiver_over_http_passes(folder: pytest.Pytester, serve: Callable[[Any], str]) -> None:
    url = serve(make_app())
    result = folder.runpytest_subprocess(*PLUGIN, "--telephony-receiver-url", url, "--telephony-receiver-examples=5")
    result.assert_outcomes(passed=6, skipped=1)
    result.stdout.fnmatch_lines([f"telephony-conformance receiver: url {url} (*"])


def test_repeat_bug_over_http_is_caught_with_a_curl_to_the_server(
    folder: pytest.Pytester, serve: Callable[[Any], str]
) -> None:
    url = serve(make_app("repeat"))
    result = folder.runpytest_subprocess(*PLUGIN, f"--telephony-receiver-url={url}", "--telephony-receiver-examples=0")
    result.assert_outcomes(passed=5, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*1 of 2 deliveries broke [[]retry[]]*",
            "[[]retry[]] the same delivery again (a retry of *): expected not-5xx, got HTTP 500*",
            f"  reproduce: curl -i -X POST {url} -H 'Content-Type: application/json' --data-binary *",
        ]
    )


def test_an_unreachable_receiver_fails_once(folder: pytest.Pytester) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = folder.runpytest_subprocess(
        *PLUGIN, f"--telephony-receiver-url=http://127.0.0.1:{port}/", "--telephony-receiver-examples=0", "-x"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"nothing answers at http://127.0.0.1:{port}/ (*): start the receiver first*"])
