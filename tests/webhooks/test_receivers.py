"""The receiver driver (``conformance/receivers.py``) against in-process receivers with
planted bugs: each bug is caught, and a careful receiver passes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

pytest.importorskip("schemathesis")
pytest.importorskip("starlette")

from conformance.receivers import (
    CHECKS,
    Receiver,
    Signer,
    check_receiver,
    curl_command,
    deliveries,
    example_deliveries,
)

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
    secret = base64.b64encode(b"k").decode()
    headers = Signer(secret).headers(b"{}", now=42)
    expected = base64.b64encode(hmac.new(b"k", b"42.{}", hashlib.sha256).digest()).decode()
    assert headers == {"X-Webhook-Signature": expected, "X-Webhook-Timestamp": "42"}


def test_signer_from_template_default_is_the_default_signer_and_templates_change_the_string() -> None:
    secret = base64.b64encode(b"k").decode()
    assert Signer.from_template(secret).headers(b"{}", now=7) == Signer(secret).headers(b"{}", now=7)
    custom = Signer.from_template(secret, "v0:{timestamp}:{body}", "X-Sig", "X-Ts").headers(b"{}", now=7)
    expected = base64.b64encode(hmac.new(b"k", b"v0:7:{}", hashlib.sha256).digest()).decode()
    assert custom == {"X-Sig": expected, "X-Ts": "7"}
    with pytest.raises(ValueError, match="base64"):
        Signer.from_template("not base64!")
    with pytest.raises(ValueError, match="body"):
        Signer.from_template(secret, "{timestamp}")


def test_each_delivery_has_its_own_id_but_the_retry() -> None:
    ids = [json.loads(d.body)["id"] for d in example_deliveries(run="r") if d.check != "non-event"]
    assert len(ids) == len(set(ids)) and all(i.endswith(tuple("0123456789")) and "-r" in i for i in ids)
    retry = deliveries("retry")
    assert [d.expect for d in retry] == ["2xx", "not-5xx"] and retry[0].body == retry[1].body


def test_deliveries_by_family() -> None:
    webhook = {d.check for c in CHECKS for d in deliveries(c, fuzz_examples=0)}
    assert webhook == set(CHECKS) - {"signature", "verification"}
    pinless = {d.check for c in CHECKS for d in deliveries(c, "pinless-dialin", fuzz_examples=0)}
    assert pinless == {"valid", "broken", "non-event", "verification"}
    assert len(deliveries("signature", signer=Signer(base64.b64encode(b"k").decode()))) == 3
    assert deliveries("stream", "client") == [] and deliveries("valid", "client", fuzz_examples=0)
    with pytest.raises(ValueError):
        deliveries("everything")
