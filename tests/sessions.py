"""Whole dial-in sessions for large generated captures (the --jobs tests in tests/unit,
tests/cli and tests/plugin): each session is valid, so only the defects a test plants fail."""

from __future__ import annotations

from typing import Any

CLIENT = "17225364729060.9442072768918943"


def dialin_session(n: int, busy: bool = True) -> list[dict[str, Any]]:
    """Session ``n``: connected, then (if ``busy``) a participant-joined and a warning, then
    stopped."""
    sid = f"a64d30f4-5216-4481-a2ef-{n:012d}"
    base = {"callClientId": CLIENT, "sessionId": sid, "provider": "daily"}
    middle: list[dict[str, Any]] = [
        {"action": "participant-joined", "callClientId": CLIENT, "participant": {"session_id": sid}},
        {"action": "dialin-warning", **base, "errorMsg": "codec"},
    ]
    return [
        {"action": "dialin-connected", **base, "sipCallId": f"{n}@sip"},
        *(middle if busy else []),
        {"action": "dialin-stopped", **base},
    ]
