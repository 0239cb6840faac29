"""Planted bug: parses destination as a phone number, but it may be a SIP URI."""

from typing import Any


def country_code(number: str) -> int:
    return int(number.lstrip("+")[:1])  # ValueError for "sip:callee@example.com"


def handle(event: dict[str, Any]) -> None:
    if event["action"] == "dialout-answered" or event["action"] == "dialout-connected":
        destination = event.get("destination")
        if destination is not None:
            country_code(destination)  # BUG: destination may be a SIP URI
