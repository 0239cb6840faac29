"""Signing a webhook delivery the way Daily is understood to sign it; every part configurable.

Daily documents HMAC-SHA256 with a base64 secret in ``X-Webhook-Signature`` and
``X-Webhook-Timestamp`` (reference §4), but the exact signed string could not be confirmed
from its published docs, so the default is HMAC-SHA256 over ``timestamp + "." + raw body``,
keyed with the base64-decoded secret, sent base64-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_SIGNED_STRING = "{timestamp}.{body}"
#: A signing time this many seconds old is stale (the stale-signature check signs six times as old).
STALE_AFTER = 10 * 60


@dataclass(frozen=True)
class Signer:
    """Signs a delivery the way Daily is understood to (see the module doc); configurable."""

    secret: str = field(repr=False)  # base64, as Daily shows it; never in a repr
    signature_header: str = "X-Webhook-Signature"
    timestamp_header: str = "X-Webhook-Timestamp"
    message: Callable[[str, bytes], bytes] = lambda ts, body: ts.encode() + b"." + body

    @classmethod
    def from_template(
        cls,
        secret: str,
        template: str = DEFAULT_SIGNED_STRING,
        signature_header: str = "X-Webhook-Signature",
        timestamp_header: str = "X-Webhook-Timestamp",
    ) -> Signer:
        """A signer whose signed string is ``template`` with ``{timestamp}`` and ``{body}`` filled in.

        Raises ``ValueError`` if the secret is not base64 or the template lacks ``{body}``.
        """
        try:
            base64.b64decode(secret, validate=True)
        except ValueError:
            raise ValueError("the webhook secret must be base64, as Daily shows it") from None
        if "{body}" not in template:
            raise ValueError(f"the signed string {template!r} must contain {{body}}")
        head, _, tail = template.partition("{body}")

        def message(ts: str, body: bytes) -> bytes:
            return head.replace("{timestamp}", ts).encode() + body + tail.replace("{timestamp}", ts).encode()

        return cls(secret, signature_header, timestamp_header, message)

    def headers(self, body: bytes, now: float | None = None) -> dict[str, str]:
        ts = str(int(time.time() if now is None else now))
        key = base64.b64decode(self.secret)
        digest = hmac.new(key, self.message(ts, body), hashlib.sha256).digest()
        return {self.signature_header: base64.b64encode(digest).decode(), self.timestamp_header: ts}
