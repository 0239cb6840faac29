"""A handler class that cannot be built without arguments: a usage error, not a failure."""

from typing import Any


class Handler:
    def __init__(self, room_url: str) -> None:
        self.room_url = room_url

    def on_dialin_connected(self, data: Any) -> None:
        pass
