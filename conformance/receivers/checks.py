"""What a receiver's answers are held to: the check families, and the failure of one delivery.

* a valid delivery: a 2xx;
* a broken delivery: never a 5xx (a 4xx under strict rejection);
* a body that is not an event (not JSON, not an object, no known ``type``): never a 5xx. A 2xx
  is as right as a 4xx: Daily sends a test request when a webhook is created, and calls the
  endpoint faulty unless it answers 200 (reference 9.4); and Daily adds types;
* Daily's verification request to a pinless dial-in receiver: never a 5xx (a 2xx is
  recommended, 9.3);
* a wrongly signed or stale delivery (when a secret is given): a 401 or 403;
* every answer within the time limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..escape import printable

#: The check families, in the order they run; each :class:`Delivery` names one.
CHECKS: dict[str, str] = {
    "valid": "a valid delivery gets a 2xx",
    "broken": "a broken delivery never gets a 5xx (with strict rejection: a 4xx)",
    "non-event": "a body that is not an event never gets a 5xx (a 2xx or a 4xx is fine)",
    "verification": "Daily's verification request never gets a 5xx (a 2xx is recommended)",
    "signature": "a wrongly signed or stale delivery gets a 401 or 403",
    "stream": "interleaved session streams in order: each delivery gets a 2xx",
    "retry": "the same delivery twice (webhook id repeated): never a 5xx",
    "out-of-order": "deliveries out of order: never a 5xx",
}


def applies(check: str, body: str) -> bool:
    """Whether a check family applies to a kind of receiver: the session families to webhook
    receivers (which see sessions, retries and reordering), Daily's verification request to
    pinless dial-in receivers."""
    if check in ("stream", "retry", "out-of-order"):
        return body == "webhook"
    if check == "verification":
        return body == "pinless-dialin"
    return True


@dataclass(frozen=True)
class Delivery:
    """One request to send: ``check`` names the rule it tests, ``expect`` the allowed statuses."""

    check: str
    what: str
    body: bytes
    expect: str  # "2xx", "not-5xx", "4xx", "401/403"
    headers: dict[str, str] = field(default_factory=dict)
    sign: bool = True  # sign with the receiver's signer, if it has one
    sign_at: float | None = None  # sign with this time instead of now
    recommended: str | None = None  # what is better still than ``expect`` (noted, not failed)


@dataclass(frozen=True)
class Failure:
    """A delivery whose answer broke its rule, with everything needed to reproduce it."""

    check: str
    what: str
    expected: str
    status: int | None
    response: str
    elapsed: float
    curl: str

    def __str__(self) -> str:
        got = f"HTTP {self.status}" if self.status is not None else "no answer"
        return (
            f"[{self.check}] {self.what}: expected {self.expected}, got {got} after {self.elapsed:.2f}s\n"
            f"  response: {_one_line(self.response)}\n  reproduce: {self.curl}"
        )


def _one_line(text: str, limit: int = 300) -> str:
    """A response body on one line, cut at ``limit`` characters, its control characters
    escaped: the receiver under test may answer anything, ESC sequences included."""
    flat = " ".join(text.split())
    return printable(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def allowed(expect: str, status: int) -> bool:
    if expect == "2xx":
        return 200 <= status < 300
    if expect == "not-5xx":
        return status < 500
    if expect == "4xx":
        return 400 <= status < 500
    if expect == "401/403":
        return status in (401, 403)
    raise ValueError(expect)
