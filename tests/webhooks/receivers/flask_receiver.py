"""A Flask (WSGI) webhook receiver: careful by default, with one planted bug on request.

``make_app(bug)`` plants one of :data:`BUGS`, the defects real receivers have had;
``make_app(secret=...)`` verifies Daily-style signatures (HMAC-SHA256 over
``timestamp + "." + raw body``, keyed with the base64-decoded secret, sent base64) and
refuses stale timestamps. Self-contained (Flask and the standard library only), so a test
can copy it into an empty folder and serve it as ``MODULE:APP``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from flask import Flask, Response, jsonify, request

TYPES = {
    "dialin.ready", "dialin.connected", "dialin.stopped", "dialin.error", "dialin.warning",
    "dialout.connected", "dialout.answered", "dialout.stopped", "dialout.error", "dialout.warning",
}  # fmt: skip
BUGS = ("missing-optional", "unknown-type", "non-event-500", "null-field", "repeat", "ignores-signature")
TOLERANCE = 5 * 60  # seconds a signature stays fresh


def signature_ok(secret: str, raw: bytes, headers: Any, now: float | None = None) -> bool:
    """Daily-style verification: fresh timestamp, HMAC-SHA256 over ``ts.body``, base64, constant time."""
    ts, sig = headers.get("X-Webhook-Timestamp"), headers.get("X-Webhook-Signature")
    if not ts or not sig or not ts.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(ts)) > TOLERANCE:
        return False
    digest = hmac.new(base64.b64decode(secret), ts.encode() + b"." + raw, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), sig)


def make_app(bug: str | None = None, secret: str | None = None) -> Flask:
    if bug is not None and bug not in BUGS:
        raise ValueError(bug)
    app = Flask(__name__)
    seen: set[str] = set()
    handlers = {kind: (lambda event: None) for kind in TYPES}

    def answer(message: str, status: int) -> tuple[Response, int]:
        return jsonify({"error": message} if status >= 400 else {"ok": True}), status

    @app.post("/")
    def receive() -> tuple[Response, int]:
        raw = request.get_data()
        if secret is not None and bug != "ignores-signature" and not signature_ok(secret, raw, request.headers):
            return answer("bad signature", 401)
        try:
            event: Any = json.loads(raw)
        except ValueError:
            return answer("not json", 500 if bug == "non-event-500" else 400)
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return answer("not an event", 500 if bug == "non-event-500" else 400)
        kind = event["type"]
        if bug == "unknown-type":
            handlers[kind](event)  # KeyError on a type it has no handler for
        if kind not in TYPES:
            return answer("unknown type", 400)
        payload = event["payload"] if isinstance(event.get("payload"), dict) else {}
        if bug == "missing-optional" and kind in ("dialout.connected", "dialout.answered", "dialout.stopped"):
            payload["origin"].lower()  # assumes origin is always there (D4)
        if bug == "null-field":
            for value in payload.values():
                if not isinstance(value, (int, float)):
                    len(value)  # None has no len()
        if bug == "repeat" and isinstance(event.get("id"), str):
            if event["id"] in seen:
                raise RuntimeError("duplicate primary key")  # an INSERT without ON CONFLICT
            seen.add(event["id"])
        return answer("", 200)

    return app


app = make_app()
