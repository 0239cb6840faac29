"""Planted bug: assumes every sipHeaders value is a string."""

from typing import Any


def handle(event: dict[str, Any]) -> None:
    headers = event.get("sipHeaders") or {}
    for name, value in headers.items():
        if name.lower().startswith("x-"):
            value.strip()  # BUG: values may be numbers, booleans, null, lists or objects
