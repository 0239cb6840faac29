"""A daily-python EventHandler written from daily-python's own docs (types.rst): it reads the
keys they document, and uses .get for what may be missing. It passes the fuzzer."""

from typing import Any

from daily import EventHandler


class Handler(EventHandler):
    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}
        self.endpoints: list[str] = []
        self.problems: list[str] = []

    def on_dialin_ready(self, sip_endpoint: str) -> None:
        self.endpoints.append(sip_endpoint)

    def on_dialin_connected(self, data: Any) -> None:  # DialinConnectedEvent
        self.calls[data["sessionId"]] = {
            "caller": data["sipFrom"],
            "name": data["displayName"],
            "headers": dict(data["sipHeaders"]),
            "trace": data["actionTraceId"],
        }

    def on_dialin_stopped(self, data: Any) -> None:  # DialinStoppedEvent
        self.calls.pop(data["sessionId"], None)

    def on_dialin_error(self, data: Any) -> None:  # DialinEvent
        self.problems.append(f"{data['sessionId']}: {data['message']}")
        self.calls.pop(data["sessionId"], None)

    def on_dialin_warning(self, data: Any) -> None:  # DialinEvent
        self.problems.append(data["message"])

    def on_dialout_connected(self, data: Any) -> None:  # DialoutEvent
        self.calls[data["sessionId"]] = {"trace": data["actionTraceId"]}

    def on_dialout_answered(self, data: Any) -> None:
        self.calls.setdefault(data["sessionId"], {})["answered"] = True

    def on_dialout_stopped(self, data: Any) -> None:
        self.calls.pop(data["sessionId"], None)

    def on_dialout_error(self, data: Any) -> None:
        # An error may come before its session (L12): no sessionId then.
        self.problems.append(data["message"])
        self.calls.pop(data.get("sessionId", ""), None)

    def on_dialout_warning(self, data: Any) -> None:
        self.problems.append(data["message"])
