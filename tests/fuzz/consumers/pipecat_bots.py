"""pipecat bots, each a factory of its DailyTransport with the bot's handlers registered as a
pipecat bot registers them; each bug_* has one planted bug, `careful` has none. The transport
never joins a room: the fuzzer calls its handlers directly."""

from typing import Any

from loguru import logger
from pipecat.transports.daily.transport import DailyParams, DailyTransport

logger.remove()  # pipecat logs every handler call; the tests read only the fuzzer's report


def _transport() -> DailyTransport:
    return DailyTransport("https://example.daily.co/telephony-bot", None, "bot", DailyParams())


def careful() -> DailyTransport:
    transport = _transport()
    calls: dict[str, Any] = {}

    @transport.event_handler("on_dialin_ready")
    async def on_ready(transport: Any, sip_endpoint: str) -> None:
        calls["endpoint"] = sip_endpoint

    @transport.event_handler("on_dialin_connected")
    async def on_connected(transport: Any, data: Any) -> None:
        calls[data["sessionId"]] = data.get("sipFrom")

    @transport.event_handler("on_dialout_error")
    async def on_dialout_error(transport: Any, data: Any) -> None:
        calls.pop(data.get("sessionId", ""), None)

    @transport.event_handler("on_dialout_answered")
    def on_answered(transport: Any, data: Any) -> None:
        calls[data["sessionId"]] = data.get("destination", "?")

    return transport


async def careful_async() -> DailyTransport:
    """The same bot, from an async factory."""
    return careful()


def bug_dialout_error_session() -> DailyTransport:
    transport = careful()

    @transport.event_handler("on_dialout_error")
    async def retry(transport: Any, data: Any) -> None:
        print("retrying after", data["sessionId"])  # BUG: a dial-out error may come before its session

    return transport


def bug_endpoint_as_dict() -> DailyTransport:
    transport = careful()

    @transport.event_handler("on_dialin_ready")
    async def forward(transport: Any, sip_endpoint: Any) -> None:
        print("forwarding the call to", sip_endpoint["sipEndpoint"])  # BUG: on_dialin_ready gets the string

    return transport


def bug_sip_call_id() -> DailyTransport:
    transport = careful()

    @transport.event_handler("on_dialin_connected")
    async def log_call(transport: Any, data: Any) -> None:
        print("call", data["sipCallId"])  # BUG: daily-python does not promise sipCallId

    return transport


def bug_sync_handler() -> DailyTransport:
    transport = careful()

    @transport.event_handler("on_dialin_stopped")
    def hang_up(transport: Any, data: Any) -> None:
        print("caller", data["sipFrom"].split("@")[1])  # BUG: a SIP From need not hold '@'

    return transport


def not_a_transport() -> Any:
    return object()
