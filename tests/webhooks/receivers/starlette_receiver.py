"""A Starlette webhook receiver: careful by default, with one planted bug on request.

BUGS names the defects a real receiver has had; ``make_app(bug)`` plants one of them.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TYPES = {
    "dialin.ready", "dialin.connected", "dialin.stopped", "dialin.error", "dialin.warning",
    "dialout.connected", "dialout.answered", "dialout.stopped", "dialout.error", "dialout.warning",
}  # fmt: skip
BUGS = ("missing-optional", "unknown-type", "non-event-500", "null-field", "repeat")


def make_app(bug: str | None = None) -> Starlette:
    seen: set[str] = set()

    async def receive(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            event: Any = json.loads(raw)
        except ValueError:
            return JSONResponse({"error": "not json"}, 500 if bug == "non-event-500" else 400)
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return JSONResponse({"error": "not an event"}, 500 if bug == "non-event-500" else 400)
        kind = event["type"]
        if kind not in TYPES:
            if bug == "unknown-type":
                raise KeyError(kind)  # a handler table lookup
            return JSONResponse({"error": "unknown type"}, 400)
        payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
        if bug == "missing-optional" and kind.startswith("dialout.") and kind != "dialout.error":
            payload["origin"].lower()  # assumes origin is always there (D4)
        if bug == "null-field":
            for value in payload.values():
                len(value) if not isinstance(value, (int, float)) else None  # None has no len()
        if bug == "repeat" and isinstance(event.get("id"), str):
            if event["id"] in seen:
                raise RuntimeError("duplicate primary key")  # an INSERT without ON CONFLICT
            seen.add(event["id"])
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/", receive, methods=["POST"])])


app = make_app()
