"""Planted bug: reads the optional userId with data["userId"]."""

from typing import Any

greeted: list[str] = []


def handle(event: dict[str, Any]) -> None:
    if event["action"] in ("dialin-connected", "dialout-connected"):
        greeted.append(event["userId"])  # BUG: userId is optional
