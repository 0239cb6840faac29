"""Planted bug: calls a str method on dialin-error.type, which may be null."""

from typing import Any


class Handler:
    def __init__(self) -> None:
        self.retry = False

    def on_dialin_error(self, data: dict[str, Any]) -> None:
        self.retry = data.get("type", "").startswith("start")  # BUG: type may be null
