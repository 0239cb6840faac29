"""Captures of the same test calls recorded again and again: other session ids, other
timestamps, other lines, the same defects (for the baseline tests)."""

from __future__ import annotations

import json
import random
from typing import Any

#: The defects a recording may hold, each in its own call.
DEFECTS = (
    "connected-without-sip-call-id",  # S201 /sipCallId
    "bad-destination",  # S203 /destination
    "numeric-session-id",  # S202 /sessionId
    "stopped-twice",  # L303
    "truncated-line",  # C101
    "typo-action",  # S204
    "stopped-without-provider",  # S201 /provider
    "destination-changed",  # L305 /destination
    "connected-twice",  # L306
    "unknown-error-type",  # S203 /type
)


def recording(seed: int, *, copies: int = 4, fixed: frozenset[str] = frozenset(), new: str | None = None) -> str:
    """One capture of the test calls: ``copies`` calls with each defect (less the ``fixed``
    ones), among clean calls; ``new`` adds one call with a defect of a kind never seen."""
    rnd = random.Random(seed)
    calls: list[list[dict[str, Any] | str]] = []
    for defect in DEFECTS:
        if defect not in fixed:
            calls += [_call(rnd, defect) for _ in range(copies)]
    calls += [_call(rnd, None) for _ in range(6)]
    if new is not None:
        calls.append(_call(rnd, new))
    rnd.shuffle(calls)
    lines = [{"action": "joined-meeting", "callClientId": "c", "at": rnd.randrange(10**9)}]
    lines += [line for call in calls for line in call]
    return "".join(_text(line) + "\n" for line in lines)


def _text(line: dict[str, Any] | str) -> str:
    return line if isinstance(line, str) else json.dumps(line, separators=(",", ":"))


def _call(rnd: random.Random, defect: str | None) -> list[dict[str, Any] | str]:
    session = f"{rnd.randrange(16**8):08x}-{rnd.randrange(16**4):04x}-4481-a2ef-{rnd.randrange(16**12):012x}"
    client = f"1722536{rnd.randrange(10**6)}.{rnd.randrange(10**8)}"
    call_id = f"{rnd.randrange(16**6):06x}@sip.daily.co"
    base = {"callClientId": client, "sessionId": session, "provider": "daily"}
    if defect in ("connected-without-sip-call-id", "stopped-twice", "typo-action", "unknown-error-type") or (
        defect is None and rnd.random() < 0.5
    ):
        connected = {"action": "dialin-connected", **base, "sipCallId": call_id, "sipFrom": "sip:caller@example.com"}
        end = {"action": "dialin-stopped", **base, "sipCallId": call_id}
        if defect == "connected-without-sip-call-id":
            del connected["sipCallId"]
        if defect == "typo-action":
            return [{**connected, "action": "dialin_connected"}]
        if defect == "unknown-error-type":
            return [connected, {"action": "dialin-error", **base, "errorMsg": "busy", "type": "fatal"}]
        if defect == "stopped-twice":
            return [connected, end, end]
        return [connected, end]
    destination = f"+1{rnd.randrange(10**9, 10**10)}"
    connected = {"action": "dialout-connected", **base, "sipCallId": call_id, "destination": destination}
    answered = {"action": "dialout-answered", **base, "sipCallId": call_id, "destination": destination}
    stopped = {"action": "dialout-stopped", **base, "destination": destination}
    if defect == "bad-destination":
        connected["destination"] = destination[1:]
    if defect == "numeric-session-id":
        answered["sessionId"] = rnd.randrange(10**6)
    if defect == "stopped-without-provider":
        del stopped["provider"]
    if defect == "destination-changed":
        stopped["destination"] = f"+1{rnd.randrange(10**9, 10**10)}"
    if defect == "connected-twice":
        return [connected, connected, answered, stopped]
    if defect == "truncated-line":
        return [connected, json.dumps(answered)[: rnd.randrange(20, 60)], stopped]
    return [connected, answered, stopped]
