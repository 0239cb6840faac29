"""Recording a bot's callbacks (``conformance.record``), checked round trip: a scripted call
recorded from a daily-python EventHandler and from a pipecat transport checks clean, and
defects planted in it are named at exactly the lines where they were planted."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conformance.check import CaptureSummary, check_file
from conformance.options import Options
from conformance.record import Recorder, record_handler, record_transport

SID_IN = "a64d30f4-5216-4481-a2ef-515d6dd7dfc6"
SID_OUT = "7d208e2a-520b-4a8d-a2c9-3a36dfa0d342"

#: A scripted call as daily-python delivers it: (handler, argument).
CALL: list[tuple[str, Any]] = [
    ("on_dialin_ready", "sip:room-name@sip.daily.co"),
    ("on_dialin_connected", {"sessionId": SID_IN, "actionTraceId": "t1", "displayName": "+12098888888",
                             "sipFrom": "sip:+12098888888@sip.example.com", "sipHeaders": {"X-Call-Ref": "4711"}}),
    ("on_dialin_warning", {"sessionId": SID_IN, "actionTraceId": "t1", "message": "codec fallback"}),
    ("on_dialout_error", {"actionTraceId": "t2", "message": "DialOut failed: no route"}),  # before a session (L12)
    ("on_dialout_connected", {"sessionId": SID_OUT, "actionTraceId": "t3"}),
    ("on_dialout_answered", {"sessionId": SID_OUT, "actionTraceId": "t3"}),
    ("on_dialout_stopped", {"sessionId": SID_OUT, "actionTraceId": "t3"}),
    ("on_dialin_stopped", {"sessionId": SID_IN, "actionTraceId": "t1", "sipFrom": "sip:+12098888888@sip.example.com",
                           "sipHeaders": {}}),
]

#: Defects planted in the call, by its index: what replaces the argument, and the finding expected.
PLANTED: dict[int, tuple[Any, tuple[str, str]]] = {
    1: ({"actionTraceId": "t1", "sipFrom": "sip:a@b"}, ("S201", "/data/sessionId")),
    4: ({"sessionId": SID_OUT, "destination": "12098888888"}, ("S203", "/data/destination")),
    6: ({"sessionId": 42}, ("S202", "/data/sessionId")),
}


def check(path: Path, **options: Any) -> list[tuple[int, str, str | None]]:
    summary = CaptureSummary(str(path))
    found = [(f.line, f.rule, f.pointer) for f in check_file(str(path), summary, Options(**options))]
    assert summary.lines == len(path.read_text().splitlines())
    return found


def planted_call() -> list[tuple[str, Any]]:
    return [(name, PLANTED[i][0] if i in PLANTED else arg) for i, (name, arg) in enumerate(CALL)]


class StandInCallClient:
    """What a daily-python CallClient does with its event handler: it looks the method up by name
    on the object at each event and calls it from a thread of its own (reference 9.1)."""

    def __init__(self, event_handler: Any) -> None:
        self.handler = event_handler

    def emit(self, name: str, arg: Any) -> None:
        worker = threading.Thread(target=lambda: getattr(self.handler, name)(arg), name="daily-worker")
        worker.start()
        worker.join()


class Bot:
    """A bot's EventHandler, defining a few of the ten methods."""

    def __init__(self) -> None:
        self.got: list[tuple[str, Any]] = []

    def on_dialin_connected(self, data: Any) -> None:
        self.got.append(("on_dialin_connected", data))

    def on_dialout_answered(self, data: Any) -> None:
        self.got.append(("on_dialout_answered", data))


def test_a_recorded_daily_python_call_checks_clean_and_the_handler_still_runs(tmp_path: Path) -> None:
    path = tmp_path / "calls.ndjson"
    bot = Bot()
    client = StandInCallClient(event_handler=record_handler(bot, path, client="bot-1"))
    for name, arg in CALL:
        client.emit(name, arg)
    assert check(path) == []
    assert bot.got == [(n, a) for n, a in CALL if n in ("on_dialin_connected", "on_dialout_answered")]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["handler"], line["data"], line["client"]) for line in lines] == [(n, a, "bot-1") for n, a in CALL]
    assert all(isinstance(line["at"], float) for line in lines)


def test_planted_defects_are_named_at_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "calls.ndjson"
    client = StandInCallClient(event_handler=record_handler(Bot(), path))
    for name, arg in planted_call():
        client.emit(name, arg)
    expected = {(i + 1, *finding) for i, (_, finding) in PLANTED.items()}
    assert {f for f in check(path) if f[1].startswith("S")} == expected


def test_several_threads_and_clients_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "calls.ndjson"
    recorder = Recorder(path)
    handlers = [record_handler(Bot(), recorder, client=f"bot-{i}") for i in range(8)]

    def call(handler: Any, n: int) -> None:
        for k in range(300):
            handler.on_dialout_warning({"sessionId": f"{n}-{k}", "message": "x" * (k % 50)})

    threads = [threading.Thread(target=call, args=(h, n)) for n, h in enumerate(handlers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorder.close()
    lines = path.read_bytes().splitlines()
    assert len(lines) == 8 * 300
    assert {json.loads(line)["client"] for line in lines} == {f"bot-{i}" for i in range(8)}  # every line whole
    assert [f for f in check(path, allow_empty=True) if f[1] != "L301"] == []


def test_a_failing_disk_is_said_once_and_never_raises_into_the_bot(tmp_path: Path) -> None:
    errors = io.StringIO()
    recorder = Recorder(tmp_path / "no-such-folder" / "calls.ndjson", errors=errors)
    bot = record_handler(Bot(), recorder)
    for _ in range(3):
        bot.on_dialin_connected({"sessionId": "s"})  # type: ignore[attr-defined]
    assert errors.getvalue().count("recording to") == 1
    assert "stopped" in errors.getvalue() and recorder.stopped
    assert len(bot.got) == 3


def test_a_value_json_cannot_hold_is_recorded_for_the_checker_to_name(tmp_path: Path) -> None:
    path = tmp_path / "calls.ndjson"
    bot = record_handler(Bot(), path)
    bot.on_dialin_connected({"sessionId": SID_IN, "sipHeaders": {"X": object()}})  # type: ignore[attr-defined]
    bot.on_dialin_connected({"sessionId": b"s-1", "sipFrom": b"sip:a@b"})  # type: ignore[attr-defined]
    first, _ = (json.loads(line) for line in path.read_text().splitlines())
    assert first["data"]["sipHeaders"]["X"]["repr"].startswith("<object object")
    # Bytes where a string belongs are not recorded as their repr (a string, which would pass):
    # the checker names each field.
    assert {found for found in check(path, allow_empty=True) if found[1] == "S202"} >= {
        (2, "S202", "/data/sessionId"),
        (2, "S202", "/data/sipFrom"),
    }


def test_an_object_that_takes_no_attributes_is_refused_with_the_fix() -> None:
    with pytest.raises(TypeError, match="subclass"):
        record_handler(object(), "x.ndjson")


class StandInTransport:
    """pipecat's handler registry and dispatch (BaseObject: add_event_handler, handler(transport, *args))."""

    name = "DailyTransport#7"

    def __init__(self) -> None:
        self.handlers: dict[str, list[Any]] = {}

    def add_event_handler(self, event: str, handler: Any) -> None:
        self.handlers.setdefault(event, []).append(handler)

    def emit(self, event: str, arg: Any) -> None:
        for handler in self.handlers.get(event, []):
            handler(self, arg)


def test_a_transport_records_every_telephony_event_under_its_name(tmp_path: Path) -> None:
    path = tmp_path / "calls.ndjson"
    transport = record_transport(StandInTransport(), path)
    for name, arg in CALL:
        transport.emit(name, arg)
    assert check(path) == []
    assert {json.loads(line)["client"] for line in path.read_text().splitlines()} == {"DailyTransport#7"}
    with pytest.raises(TypeError, match="not a pipecat transport"):
        record_transport(object(), path)


# --- the real libraries ----------------------------------------------------------------------
def test_real_daily_python_dispatches_to_the_recording_methods(tmp_path: Path) -> None:
    pytest.importorskip("daily", reason="daily-python is not installed (the pipecat extra)")
    # In a process of its own: daily-python's runtime (Daily.init) lives as long as the process.
    path = tmp_path / "calls.ndjson"
    code = f"""
import json, threading, time
from daily import CallClient, Daily, EventHandler
from conformance.record import record_handler

class Bot(EventHandler):
    def on_dialin_connected(self, data):
        self.connected = data

Daily.init()
bot = record_handler(Bot(), {str(path)!r}, client="real")
client = CallClient(event_handler=bot)
# daily-python looks its handler methods up on the instance at each event: shown with an event
# it raises offline (inputs updated), since dial-in needs a Daily room.
seen = []
bot.on_inputs_updated = lambda inputs: seen.append(threading.current_thread().name)
Daily.create_microphone_device("mic", sample_rate=16000, channels=1)
client.update_inputs({{"camera": False, "microphone": {{"isEnabled": True, "settings": {{"deviceId": "mic"}}}}}})
for _ in range(100):
    if seen:
        break
    time.sleep(0.05)
assert seen and seen[0] != "MainThread", seen
# The telephony methods, called as daily-python calls them: by name, from another thread.
calls = {json.dumps(CALL)}
for name, arg in calls:
    worker = threading.Thread(target=lambda: getattr(bot, name)(arg))
    worker.start()
    worker.join()
assert bot.connected == calls[1][1]
client.release()
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
    assert check(path) == []


def test_real_pipecat_transport_records_what_its_handlers_get(tmp_path: Path) -> None:
    pytest.importorskip("pipecat.transports.daily.transport", reason="pipecat-ai is not installed (the pipecat extra)")
    path = tmp_path / "calls.ndjson"
    code = f"""
import asyncio, json
from pipecat.transports.daily.transport import DailyParams, DailyTransport
from conformance.record import record_transport

CALL = {json.dumps(planted_call())}

async def main():
    # Never joins: built offline, its handlers run through pipecat's own dispatch.
    transport = DailyTransport("https://example.daily.co/room", None, "bot", DailyParams())
    got = []

    @transport.event_handler("on_dialin_connected")
    async def on_connected(transport, data):
        got.append(data)

    record_transport(transport, {str(path)!r})
    for name, arg in CALL:
        await transport._call_event_handler(name, arg)
        await asyncio.sleep(0)  # one task per handler, as pipecat runs them
    await transport.cleanup()
    assert got == [CALL[1][1]], got

asyncio.run(main())
print("ok")
"""
    env = {**os.environ, "LOGURU_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]
    lines = path.read_text().splitlines()
    assert [json.loads(line)["handler"] for line in lines] == [name for name, _ in CALL]
    assert {json.loads(line)["client"] for line in lines} == {"DailyTransport#0"}
    expected = {(i + 1, *finding) for i, (_, finding) in PLANTED.items()}
    assert {f for f in check(path) if f[1].startswith("S")} == expected


def test_the_module_imports_neither_daily_nor_pipecat() -> None:
    code = "import sys\nimport conformance.record\nprint(sorted(m for m in ('daily', 'pipecat') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_nothing_runs_asynchronously_in_the_recorder() -> None:
    # pipecat awaits a coroutine handler; the recorder's are plain functions, run in the task.
    transport = record_transport(StandInTransport(), Recorder(os.devnull))
    assert not any(asyncio.iscoroutinefunction(h) for hs in transport.handlers.values() for h in hs)
