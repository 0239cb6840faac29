"""Planted bug: builds a dataclass with **event, which breaks on an unknown extra field."""

from dataclasses import dataclass
from typing import Any


@dataclass
class TelephonyEvent:
    action: str
    callClientId: str
    provider: str | None = None
    sessionId: str | None = None
    sipCallId: str | None = None
    sipEndpoint: str | None = None
    sipFrom: str | None = None
    sipHeaders: dict[str, Any] | None = None
    userId: str | None = None
    actionTraceId: str | None = None
    errorMsg: str | None = None
    type: str | None = None
    details: dict[str, Any] | None = None
    destination: str | None = None
    origin: str | None = None
    callerId: str | None = None


def handle(event: dict[str, Any]) -> None:
    if event["action"].startswith(("dialin-", "dialout-")):
        TelephonyEvent(**event)  # BUG: a newer Daily adds fields
