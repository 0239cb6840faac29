"""The receiver driver (``conformance/receivers.py``) against in-process receivers with
planted bugs: each bug is caught, and a careful receiver passes."""

from __future__ import annotations

import pytest

pytest.importorskip("schemathesis")
pytest.importorskip("starlette")

from conformance.receivers import Receiver, Signer, check_receiver, curl_command

from .receivers.starlette_receiver import BUGS, make_app


def test_careful_receiver_passes() -> None:
    receiver = Receiver.from_app(make_app())
    failures = check_receiver(receiver, fuzz_examples=20)
    assert failures == [], "\n".join(map(str, failures))


@pytest.mark.parametrize("bug", BUGS)
def test_each_planted_bug_is_caught(bug: str) -> None:
    receiver = Receiver.from_app(make_app(bug))
    failures = check_receiver(receiver, fuzz_examples=0)
    assert failures, bug
    text = str(failures[0])
    assert "curl" in text and "reproduce" in text


def test_curl_command_is_shell_quoted() -> None:
    cmd = curl_command("http://127.0.0.1:1/", b'{"a":"it\'s"}', {"X-Webhook-Timestamp": "1"})
    assert cmd.startswith("curl -i -X POST http://127.0.0.1:1/")
    assert "'X-Webhook-Timestamp: 1'" in cmd


def test_signer_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import base64
    import hashlib
    import hmac

    secret = base64.b64encode(b"k").decode()
    headers = Signer(secret).headers(b"{}", now=42)
    expected = base64.b64encode(hmac.new(b"k", b"42.{}", hashlib.sha256).digest()).decode()
    assert headers == {"X-Webhook-Signature": expected, "X-Webhook-Timestamp": "42"}
