"""Planted bug: tracks one "current session", which breaks when sessions interleave."""

from typing import Any


class Handler:
    def __init__(self) -> None:
        self.current: str | None = None

    def on_dialin_connected(self, data: dict[str, Any]) -> None:
        self.current = data["sessionId"]

    def on_dialout_connected(self, data: dict[str, Any]) -> None:
        self.current = data["sessionId"]

    def _stopped(self, data: dict[str, Any]) -> None:
        if self.current is None:
            return
        if data["sessionId"] != self.current:  # BUG: several sessions can be open at once
            raise RuntimeError(f"stop for {data['sessionId']} but the current call is {self.current}")
        self.current = None

    on_dialin_stopped = _stopped
    on_dialout_stopped = _stopped
