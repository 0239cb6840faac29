"""Careful consumers of each Python kind: they pass the fuzzer, broken input included.

``handle`` rejects what its schema does not allow with ValueError (a clean rejection);
``handle_async`` and ``Handler`` ignore what they do not understand.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conformance.schemas import event_schemas

SCHEMAS = event_schemas()


class Calls:
    """Calls by (callClientId, sessionId): several interleave, any may end at any time."""

    def __init__(self) -> None:
        self.state: dict[tuple[Any, Any], str] = {}

    def feed(self, event: dict[str, Any]) -> None:
        action = event.get("action")
        if not isinstance(action, str) or not action.startswith(("dialin-", "dialout-")):
            return
        session = event.get("sessionId")
        if not isinstance(session, str):
            return  # dialin-ready, or a dialout-error/-warning before a session existed
        key = (str(event.get("callClientId")), session)
        kind = action.split("-", 1)[1]
        if kind in ("stopped", "error"):
            self.state.pop(key, None)
        else:
            self.state[key] = kind
        error_type = event.get("type")
        if isinstance(error_type, str):
            error_type.upper()
        headers = event.get("sipHeaders")
        if isinstance(headers, dict):
            {name: str(value) for name, value in headers.items()}
        destination = event.get("destination")
        if isinstance(destination, str) and destination.startswith("+"):
            int(destination[1:])


CALLS = Calls()


def handle(event: dict[str, Any]) -> None:
    """A sync callable that validates each telephony event and rejects invalid ones."""
    action = event.get("action")
    if not isinstance(action, str):
        raise ValueError("event without an action")
    schema = SCHEMAS.get(action)
    if schema is None:
        if action.startswith(("dialin", "dialout")):
            raise ValueError(f"unknown telephony action {action!r}")
        return
    if not schema.fast.is_valid(event):
        raise ValueError(f"invalid {action}")
    CALLS.feed(event)


async def handle_async(event: dict[str, Any]) -> None:
    """An async callable that ignores what it does not understand."""
    await asyncio.sleep(0)
    CALLS.feed(event)


class Handler:
    """A daily-python EventHandler (a fresh instance per stream)."""

    def __init__(self) -> None:
        self.calls = Calls()
        self.endpoints: list[Any] = []

    def on_dialin_ready(self, sip_endpoint: Any) -> None:
        self.endpoints.append(sip_endpoint)

    def on_dialin_connected(self, data: dict[str, Any]) -> None:
        self.calls.feed({"action": "dialin-connected", **data})

    def on_dialin_stopped(self, data: dict[str, Any]) -> None:
        self.calls.feed({"action": "dialin-stopped", **data})

    def on_dialin_error(self, data: dict[str, Any]) -> None:
        self.calls.feed({"action": "dialin-error", **data})

    def on_dialout_connected(self, data: dict[str, Any]) -> None:
        self.calls.feed({"action": "dialout-connected", **data})

    def on_dialout_answered(self, data: dict[str, Any]) -> None:
        self.calls.feed({"action": "dialout-answered", **data})

    def on_dialout_stopped(self, data: dict[str, Any]) -> None:
        self.calls.feed({"action": "dialout-stopped", **data})

    def on_dialout_error(self, data: dict[str, Any]) -> None:
        self.calls.feed({"action": "dialout-error", **data})

    def on_dialout_warning(self, data: dict[str, Any]) -> None:
        self.calls.feed({"action": "dialout-warning", **data})


def trivial(event: dict[str, Any]) -> None:
    """Does nothing: the benchmark's trivial consumer."""
