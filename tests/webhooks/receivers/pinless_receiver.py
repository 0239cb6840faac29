"""A pinless dial-in server (Daily's call to room_creation_api), careful by default, with one
planted bug on request, the kinds pipecat's own runner has (reference 9.3)."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BUGS = ("array-500", "verification-500", "no-headers-500", "verification-400")
REQUIRED = ("To", "From", "callId", "callDomain")


def make_app(bug: str | None = None) -> Starlette:
    async def room_creation_api(request: Request) -> JSONResponse:
        try:
            data: Any = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "not json"}, 400)
        if bug != "array-500" and not isinstance(data, dict):
            return JSONResponse({"error": "not an object"}, 400)
        if list(data) == ["To"]:  # Daily's verification request ({"To": number}) when the config is saved
            if bug == "verification-500":
                raise KeyError("From")  # handled as a call
            return JSONResponse({"ok": True}, 400 if bug == "verification-400" else 200)
        if any(data.get(name) is None for name in REQUIRED):  # AttributeError on a list: array-500
            return JSONResponse({"error": "missing fields"}, 400)
        if not all(isinstance(data[name], str) for name in REQUIRED):
            return JSONResponse({"error": "fields must be strings"}, 400)
        headers = data.get("sipHeaders")
        if bug == "no-headers-500":
            headers = dict(headers)  # TypeError when sipHeaders is absent
        elif headers is not None and not isinstance(headers, dict):
            return JSONResponse({"error": "sipHeaders must be an object"}, 400)
        return JSONResponse({"dailyRoom": "https://example.daily.co/room", "sessionId": data["callId"]})

    return Starlette(routes=[Route("/", room_creation_api, methods=["POST"])])


app = make_app()
