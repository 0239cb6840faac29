"""Planted bug: an async EventHandler method, which daily-python never awaits."""

from typing import Any

from daily import EventHandler


class Handler(EventHandler):
    def __init__(self) -> None:
        self.sessions: set[str] = set()

    async def on_dialin_connected(self, data: Any) -> None:  # BUG: never awaited by daily-python
        self.sessions.add(data["sessionId"])
