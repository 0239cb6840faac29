"""Recording what a daily-python or pipecat bot receives, as a capture the checker reads.

One line of set-up in a bot::

    from conformance.record import record_handler, record_transport

    client = CallClient(event_handler=record_handler(MyHandler(), "calls.ndjson"))   # daily-python
    transport = record_transport(DailyTransport(room_url, token, "bot"), "calls.ndjson")   # pipecat

Each of the ten telephony callbacks becomes one line, ``{"handler", "client", "at", "data"}``
(``schemas/daily-python-record.schema.json``), with ``data`` exactly as the handler received it;
then ``pytest --telephony-conformance calls.ndjson`` checks it. Lines are appended, one write
per line, from any thread (daily-python calls handlers from its own). Recording never raises
into the bot: when the file cannot be written, that is said once on stderr and recording
stops. Neither daily nor pipecat is imported here.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any, TypeVar

from .surfaces import HANDLER_METHODS

__all__ = ["Recorder", "record_handler", "record_transport"]

T = TypeVar("T")


class Recorder:
    """Appends recorded callbacks to a capture file; several clients may share one.

    Arguments:
        path: the capture file, created if need be and appended to.
        errors: where the one message about a failed write goes (default: stderr).
    """

    def __init__(self, path: str | os.PathLike[str], errors: IO[str] | None = None) -> None:
        self.path = os.fspath(path)
        self._errors = errors
        self._lock = threading.Lock()
        self._fd: int | None = None
        self.stopped = False

    def write(self, handler: str, data: Any, client: str | None = None) -> None:
        """Record one callback; never raises."""
        if self.stopped:
            return
        try:
            fields: dict[str, Any] = {"handler": handler}
            if client is not None:
                fields["client"] = client
            fields["at"] = round(time.time(), 6)
            fields["data"] = data
            line = _dumps(fields).encode("utf-8") + b"\n"
            with self._lock:
                if self.stopped:
                    return
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                os.write(self._fd, line)  # O_APPEND: one write lands whole, whoever else writes
        except Exception as exc:  # the bot must go on whatever recording meets
            self._stop(exc)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stop(self, exc: BaseException) -> None:
        with self._lock:
            if self.stopped:
                return
            self.stopped = True
        reason = f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(Exception):  # not even stderr: nothing more to do
            print(f"telephony-conformance: recording to {self.path} stopped: {reason}", file=self._errors or sys.stderr)


def _dumps(fields: dict[str, Any]) -> str:
    # A value JSON cannot hold is recorded as an object that says what it was, so the line is
    # still written and the checker names the field: no event field is an object of this shape
    # (a string recorded as its repr would pass where a string is expected).
    try:
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=_not_json)
    except UnicodeEncodeError:
        return json.dumps(fields, separators=(",", ":"), default=_not_json)


def _not_json(value: object) -> dict[str, str]:
    return {"notJson": type(value).__name__, "repr": repr(value)[:200]}


def _recorder(target: str | os.PathLike[str] | Recorder) -> Recorder:
    return target if isinstance(target, Recorder) else Recorder(target)


def record_handler(handler: T, target: str | os.PathLike[str] | Recorder, client: str | None = None) -> T:
    """Make a daily-python ``EventHandler`` (or any object with ``on_dial*`` methods) record each
    telephony callback to ``target`` before its own method, if it has one, runs; returns it.

    daily-python looks a handler method up on the object at every call, so the recording
    methods are set on the instance: ``CallClient(event_handler=record_handler(MyHandler(),
    "calls.ndjson"))``. ``client`` names the client in each line, when one file records several.
    """
    recorder = _recorder(target)
    for name in HANDLER_METHODS.values():
        own = getattr(handler, name, None)
        try:
            setattr(handler, name, _recording(recorder, name, own if callable(own) else None, client))
        except (AttributeError, TypeError):
            raise TypeError(
                f"cannot record {type(handler).__name__}: its instances take no attributes; record an "
                "instance of a subclass (class MyHandler(EventHandler): ...)"
            ) from None
    return handler


def _recording(recorder: Recorder, name: str, own: Callable[[Any], Any] | None, client: str | None) -> Any:
    def method(arg: Any) -> Any:
        recorder.write(name, arg, client)
        return own(arg) if own is not None else None

    method.__name__ = method.__qualname__ = name
    method.__wrapped__ = own  # type: ignore[attr-defined]
    return method


def record_transport(transport: T, target: str | os.PathLike[str] | Recorder, client: str | None = None) -> T:
    """Make a pipecat transport (a ``DailyTransport``, or any pipecat object with
    ``add_event_handler``) record each of the ten telephony events to ``target``; returns it.

    A handler is registered for each ``on_dial*`` event, beside the bot's own. ``client``
    names the client in each line; by default the transport's name (``DailyTransport#0``).
    """
    add = getattr(transport, "add_event_handler", None)
    if not callable(add):
        raise TypeError(f"{type(transport).__name__} is not a pipecat transport: it has no add_event_handler")
    recorder = _recorder(target)
    name = client if client is not None else getattr(transport, "name", None)
    for event in HANDLER_METHODS.values():
        add(event, _transport_recording(recorder, event, name if isinstance(name, str) else None))
    return transport


def _transport_recording(recorder: Recorder, event: str, client: str | None) -> Callable[..., None]:
    def handler(transport: Any, arg: Any = None, *more: Any) -> None:  # pipecat calls handler(transport, *args)
        recorder.write(event, arg, client)

    handler.__name__ = handler.__qualname__ = f"record_{event}"
    return handler
