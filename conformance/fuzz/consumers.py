"""The consumers a fuzzer drives, one adapter class per kind, each delivering a stream the way
that kind of consumer receives it in production.

* :class:`CallableConsumer`: a Python callable taking one event dict, sync or async (an
  awaitable result is awaited);
* :class:`HandlerConsumer`: an object with daily-python ``EventHandler`` methods
  (``on_dialin_ready(sip_endpoint)``, ``on_dialin_connected(data)`` …), dispatched as
  daily-python dispatches them (reference §1, §9.1): ``on_dialin_ready`` gets only the
  ``sipEndpoint`` string and is not called when the event has none; the other nine get the
  event as a dict without ``action`` and ``callClientId``; a missing method means the event is
  not handled; non-telephony events are not dispatched. Given a class, each stream gets a
  fresh instance;
* :class:`PipecatConsumer`: a pipecat bot (a :class:`Pipecat` factory of its transport): each
  event goes to the handlers the bot registered for it, called as pipecat calls them,
  ``handler(transport, data)`` or ``handler(transport, sip_endpoint)``, awaited when they are
  ``async def``; a fresh transport for each stream;
* :class:`ProgramConsumer`: any program reading one stream as NDJSON on stdin (a
  :class:`Program`). Exit 0 means handled; a non-zero exit, a crash or a timeout is a
  failure, with its stderr.

The daily-python consumers (an EventHandler, a pipecat bot) get daily-python's shapes
(``surface = "daily-python"``): what daily-python documents, not daily-js's objects. In
production neither library lets a handler's exception out: daily-python hands it to
``sys.unraisablehook``, pipecat logs it. Here each handler is called directly, so an
exception is the failure it is.

"Clean rejection" of broken input: a Python consumer raises one of the exception types the
user declares, a program exits with one of the declared codes. Ignoring broken input is fine
too. Anything else is a failure, and valid input must never raise nor exit non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import functools
import inspect
import json
import os
import shlex
import signal
import subprocess
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..surfaces import HANDLER_METHODS

Event = dict[str, Any]

DEFAULT_REJECT: tuple[type[BaseException], ...] = (ValueError,)
DEFAULT_REJECT_EXIT_CODES: tuple[int, ...] = (65,)
DEFAULT_TIMEOUT = 10.0
_MAX_STDERR = 4000


@dataclass(frozen=True)
class Program:
    """A command that reads one stream as NDJSON on stdin; exit 0 means handled.

    Arguments:
        command: the command line (split like a POSIX shell, no shell involved) or its argv.
        timeout: seconds before the program is killed and the stream counts as a failure.
        cwd: the working directory (default: the current one).
        loop: the program handles stream after stream, each ended by an empty line, and
            answers each with a line ``handled`` or ``rejected``: started once, not per
            stream (:mod:`.looping`).
    """

    command: str | Sequence[str]
    timeout: float = DEFAULT_TIMEOUT
    cwd: str | None = None
    loop: bool = False

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command) if isinstance(self.command, str) else list(self.command)

    @property
    def display(self) -> str:
        return self.command if isinstance(self.command, str) else shlex.join(self.command)


@dataclass(frozen=True)
class Rejection:
    """How a consumer may reject broken input cleanly, instead of failing on it: a Python
    consumer raises one of ``exceptions``, a program exits with one of ``exit_codes``."""

    exceptions: tuple[type[BaseException], ...] = DEFAULT_REJECT
    exit_codes: tuple[int, ...] = DEFAULT_REJECT_EXIT_CODES


@dataclass
class Outcome:
    """What happened when one stream was delivered.

    ``status`` is ``"handled"``, ``"rejected"`` (a clean rejection of broken input) or
    ``"failed"``; a failure carries the exception or the exit, and the index of the event
    being delivered when a Python consumer raised.
    """

    status: str
    exception: BaseException | None = None
    index: int | None = None
    exit_code: int | None = None
    stderr: str = ""
    reason: str = ""
    consumer_traceback: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass(frozen=True)
class Pipecat:
    """A pipecat bot to fuzz: ``factory()`` (sync or async, no arguments) returns a transport (a
    ``DailyTransport``, or any pipecat object with ``add_event_handler``) with the bot's
    handlers registered."""

    factory: Callable[[], Any]


class ConsumerSetupError(Exception):
    """The consumer cannot be set up (a class that cannot be constructed, a factory that fails):
    a mistake in how it is given, not a failure on an event."""


class NeverAwaited(Exception):
    """A daily-python ``EventHandler`` method is ``async def``: daily-python calls it from its own
    thread and never awaits the coroutine, so its body never runs."""


class Consumer:
    """Delivers streams to one consumer; :func:`as_consumer` picks the adapter.

    Arguments:
        target: what is driven (a callable, an EventHandler class or instance, a Pipecat bot,
            a Program).
        name: how reports name it (``module:object`` or the command line).
    """

    #: Whether the consumer is a program, run once per stream (not a Python object).
    program = False
    #: Whose shapes the consumer gets (:data:`~.generate.GENERATED_SURFACES`).
    surface = "daily-js"

    def __init__(self, target: Any, name: str) -> None:
        self.target = target
        self.name = name

    def replay(self, spec: str | None, path: str) -> str:
        """The shell command that delivers the stream in ``path`` again (``spec``: MODULE:OBJECT)."""
        return f"python -m conformance.consumers {shlex.quote(spec or self.name)} {path}"

    def deliver(self, stream: Sequence[Event], broken: Rejection | None = None) -> Outcome:
        """Deliver one stream; ``broken`` input may be rejected as it says, not failed on."""
        raise NotImplementedError

    def close(self) -> None:
        """Let go of what the consumer holds between streams (a program kept running)."""


class _PythonConsumer(Consumer):
    """A Python consumer: each event becomes a call, made in order; an exception is a failure."""

    def deliver(self, stream: Sequence[Event], broken: Rejection | None = None) -> Outcome:
        # Each event is a fresh copy (as a real SDK builds a fresh object per event), so a
        # consumer that mutates its argument cannot change what the report shows.
        events = [json.loads(json.dumps(e)) for e in stream]
        calls = self.calls(events)  # a setup error is raised here, not taken for a failure
        loop: asyncio.AbstractEventLoop | None = None
        index = 0
        try:
            for index, call in calls:  # noqa: B007 - `index` is read in the except clause
                result = call()
                if inspect.isawaitable(result):
                    if loop is None:
                        loop = asyncio.new_event_loop()
                    loop.run_until_complete(_awaited(result))
        except Exception as exc:
            return _raised(exc, broken, index)
        finally:
            if loop is not None:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
        return Outcome("handled")

    def calls(self, events: list[Event]) -> Iterator[tuple[int, Callable[[], Any]]]:
        """``(index, call)`` for each event the consumer gets, in order; ready to iterate (a
        setup error is raised before it is returned)."""
        raise NotImplementedError


class CallableConsumer(_PythonConsumer):
    """A callable taking one event dict, sync or async."""

    def calls(self, events: list[Event]) -> Iterator[tuple[int, Callable[[], Any]]]:
        return ((i, functools.partial(self.target, event)) for i, event in enumerate(events))


def daily_python_call(event: Event) -> tuple[str, Any] | None:
    """``(handler name, argument)`` of the callback daily-python makes for ``event`` (a generated
    event: the ``action`` it stands for beside its data), or ``None`` when it makes none: a
    non-telephony event, or a ``dialin-ready`` without ``sipEndpoint`` (``args_from_event``
    returns None, reference 9.1)."""
    action = event.get("action")
    if action not in HANDLER_METHODS:
        return None
    if action == "dialin-ready":
        return (HANDLER_METHODS[action], event["sipEndpoint"]) if "sipEndpoint" in event else None
    return HANDLER_METHODS[action], {k: v for k, v in event.items() if k not in ("action", "callClientId")}


class HandlerConsumer(_PythonConsumer):
    """A daily-python ``EventHandler`` (class or instance), called as daily-python calls it."""

    surface = "daily-python"

    def __init__(self, target: Any, name: str) -> None:
        super().__init__(target, name)
        self._fresh()  # a class that cannot be built is a setup error, found before fuzzing

    def _fresh(self) -> Any:
        if not isinstance(self.target, type):
            return self.target
        try:
            return self.target()  # a fresh one per stream, as a bot builds one per call
        except Exception as exc:
            raise ConsumerSetupError(
                f"cannot construct {self.name}: {type(exc).__name__}: {exc}; give a class that needs no "
                "arguments, or an instance (MODULE:INSTANCE)"
            ) from exc

    def calls(self, events: list[Event]) -> Iterator[tuple[int, Callable[[], Any]]]:
        handler = self._fresh()
        return self._calls(handler, events)

    def _calls(self, handler: Any, events: list[Event]) -> Iterator[tuple[int, Callable[[], Any]]]:
        for i, event in enumerate(events):
            call = daily_python_call(event)
            method = getattr(handler, call[0], None) if call is not None else None
            if call is None or method is None:
                continue  # not a telephony event, or not handled: daily-python calls nothing
            if inspect.iscoroutinefunction(method):
                yield i, functools.partial(_never_awaited, call[0])
            else:
                yield i, functools.partial(method, call[1])


def _never_awaited(name: str) -> None:
    raise NeverAwaited(
        f"{name} is async def: daily-python calls it from its own thread and never awaits the coroutine, "
        "so its body would never run (make it a plain def, and hand the work to your event loop)"
    )


class PipecatConsumer(Consumer):
    """A pipecat bot: a fresh transport per stream, each event given to the handlers the bot
    registered for it, as pipecat calls them (reference 9.2) but with their exceptions let out."""

    surface = "daily-python"

    def __init__(self, target: Pipecat, name: str) -> None:
        super().__init__(target, name)
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._released(loop.run_until_complete(self._built())))
        finally:
            loop.close()

    def replay(self, spec: str | None, path: str) -> str:
        return f"python -m conformance.consumers --pipecat {shlex.quote(spec or self.name)} {path}"

    def deliver(self, stream: Sequence[Event], broken: Rejection | None = None) -> Outcome:
        events = [json.loads(json.dumps(e)) for e in stream]
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(self._deliver(events, broken))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _deliver(self, events: list[Event], broken: Rejection | None) -> Outcome:
        transport = await self._built()
        index = 0
        try:
            for index, event in enumerate(events):  # noqa: B007 - `index` is read in the except clause
                call = daily_python_call(event)
                if call is None:
                    continue
                name, arg = call
                registered = getattr(transport, "_event_handlers", {}).get(name)
                for handler in list(getattr(registered, "handlers", ())):
                    # pipecat awaits a handler when it is a coroutine function, else calls it.
                    if inspect.iscoroutinefunction(handler):
                        await handler(transport, arg)
                    else:
                        handler(transport, arg)
        except Exception as exc:
            return _raised(exc, broken, index)
        finally:
            await self._released(transport)
        return Outcome("handled")

    async def _built(self) -> Any:
        try:
            transport = self.target.factory()
            if inspect.isawaitable(transport):
                transport = await transport
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise ConsumerSetupError(f"{self.name} could not build the bot's transport: {reason}") from exc
        if not isinstance(getattr(transport, "_event_handlers", None), dict):
            raise ConsumerSetupError(
                f"{self.name} returned {type(transport).__name__}, not a pipecat transport "
                "(a DailyTransport, or a pipecat object with event handlers)"
            )
        return transport

    @staticmethod
    async def _released(transport: Any) -> None:
        """Let the transport's own tasks end, and release its daily-python CallClient, which holds
        native threads until released (a pipecat DailyTransport keeps it at ``_client._client``)."""
        cleanup = getattr(transport, "cleanup", None)
        if callable(cleanup):
            with contextlib.suppress(Exception):
                await cleanup()
        call_client = getattr(getattr(transport, "_client", None), "_client", None)
        release = getattr(call_client, "release", None)
        if callable(release):
            with contextlib.suppress(Exception):
                release()


class ProgramConsumer(Consumer):
    """A program run once per stream, the stream on its stdin as NDJSON."""

    program = True

    def replay(self, spec: str | None, path: str) -> str:
        return f"{self.name} < {path}"

    def deliver(self, stream: Sequence[Event], broken: Rejection | None = None) -> Outcome:
        program: Program = self.target
        data = ndjson(stream).encode("utf-8")
        try:
            done = subprocess.run(
                program.argv, input=data, capture_output=True, timeout=program.timeout, cwd=program.cwd, check=False
            )
        except subprocess.TimeoutExpired as exc:
            return Outcome("failed", stderr=_text(exc.stderr), reason=f"timed out after {program.timeout:g}s")
        except OSError as exc:  # not found, not executable: how it is given, not a failure on an event
            raise self.cannot_run(exc) from None
        stderr = _text(done.stderr)
        code = done.returncode
        if code == 0:
            return Outcome("handled", exit_code=0)
        if broken is not None and code in broken.exit_codes:
            return Outcome("rejected", exit_code=code, stderr=stderr)
        return Outcome("failed", exit_code=code, stderr=stderr, reason=exit_reason(code))

    def cannot_run(self, exc: OSError) -> ConsumerSetupError:
        """The program could not be started (not found, not executable): how it is given."""
        return ConsumerSetupError(f"cannot run {self.name}: {exc.strerror or exc}")


def exit_reason(code: int, after: str = "") -> str:
    """Why a program ended: ``killed by SIGKILL``, or ``exited with code 3`` and ``after``."""
    if code >= 0:
        return f"exited with code {code}{after}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def ndjson(events: Sequence[Any]) -> str:
    """Events as NDJSON, a line each (non-ASCII kept as it is), as programs and files get them."""
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)


def is_handler(obj: Any) -> bool:
    """Whether ``obj`` (a class or an instance) has a daily-python ``EventHandler`` method."""
    return any(callable(getattr(obj, m, None)) for m in HANDLER_METHODS.values())


def as_consumer(target: Any, name: str | None = None) -> Consumer:
    """The adapter for ``target``: a :class:`Program`, a :class:`Pipecat` bot, an EventHandler
    class or instance (anything with an ``on_dialin_*``/``on_dialout_*`` method), or a callable.
    Raises :class:`ConsumerSetupError` for one that cannot be set up."""
    if isinstance(target, Consumer):
        return target
    if isinstance(target, Program):
        if target.loop:
            from .looping import LoopingProgramConsumer

            return LoopingProgramConsumer(target, name or target.display)
        return ProgramConsumer(target, name or target.display)
    if isinstance(target, Pipecat):
        return PipecatConsumer(target, name or _name_of(target.factory))
    misspelt = _misspelt_handlers(target)
    if misspelt:  # a handler daily-python never calls: the bot silently misses that event
        raise ConsumerSetupError(
            f"{name or _name_of(target)} has {'; '.join(misspelt)}: daily-python calls only "
            f"{', '.join(HANDLER_METHODS.values())}"
        )
    if is_handler(target):
        return HandlerConsumer(target, name or _name_of(target))
    if isinstance(target, type) and not _takes_one_argument(target):
        raise ConsumerSetupError(
            f"{name or _name_of(target)} is a class with no daily-python EventHandler method "
            "(on_dialin_connected …), and cannot be called with an event: give an EventHandler "
            "class, or a function taking one event"
        )
    if callable(target):
        return CallableConsumer(target, name or _name_of(target))
    raise TypeError(
        f"{target!r} is not a consumer: pass a callable taking one event, an object or class with "
        "daily-python EventHandler methods (on_dialin_connected …), or a Program"
    )


def _misspelt_handlers(target: Any) -> list[str]:
    """``on_dial*`` methods of ``target`` that are not daily-python handler names, each with
    the name it was likely meant to be."""
    known = list(HANDLER_METHODS.values())
    found = []
    for attr in dir(target):
        if attr.startswith("on_dial") and attr not in known and callable(getattr(target, attr, None)):
            guess = difflib.get_close_matches(attr, known, n=1, cutoff=0.6)
            found.append(f"{attr} (did you mean {guess[0]}?)" if guess else attr)
    return found


def _takes_one_argument(cls: type) -> bool:
    try:
        inspect.signature(cls).bind(None)
    except (TypeError, ValueError):
        return False
    return True


def _name_of(obj: Any) -> str:
    obj_for_name = obj if isinstance(obj, type) or (callable(obj) and hasattr(obj, "__qualname__")) else type(obj)
    module = getattr(obj_for_name, "__module__", "?")
    return f"{module}:{getattr(obj_for_name, '__qualname__', repr(obj))}"


async def _awaited(result: Any) -> Any:
    return await result


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= _MAX_STDERR else "…" + text[-_MAX_STDERR:]


def _raised(exc: Exception, broken: Rejection | None, index: int) -> Outcome:
    """What an exception the consumer raised on event ``index`` means: a clean rejection of a
    broken stream (one of its ``exceptions``), or a failure."""
    if broken is not None and isinstance(exc, broken.exceptions):
        return Outcome("rejected", exception=exc, index=index)
    frames = _consumer_frames(exc)
    return Outcome("failed", exception=exc, index=index, consumer_traceback=frames, reason=_one_line(exc))


def _one_line(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]


_OWN_DIR = os.path.dirname(os.path.abspath(__file__))
_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__))


def _consumer_frames(exc: BaseException) -> str:
    """The traceback from the consumer's entry point down (our frames and asyncio's removed)."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not os.path.abspath(f.filename).startswith((_OWN_DIR, _ASYNCIO_DIR))
    ]
    # No frame of the consumer's own (an async method daily-python never awaits): no header.
    out = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) if frames else ""
    return out + "".join(traceback.format_exception_only(type(exc), exc))
