"""Planted bug: fails on a dialout-error that has no sessionId (L12)."""

from typing import Any


class Handler:
    def __init__(self) -> None:
        self.calls: dict[str, str] = {}

    def on_dialout_connected(self, data: dict[str, Any]) -> None:
        self.calls[data["sessionId"]] = "ringing"

    def on_dialout_error(self, data: dict[str, Any]) -> None:
        self.calls.pop(data["sessionId"], None)  # BUG: sessionId is optional on dialout-error
