"""Driving event consumers with generated events, and what a failure looks like.

Three kinds of consumer are driven, one stream at a time (:func:`as_consumer`):

1. a Python callable taking one event dict, sync or async (an awaitable result is awaited);
2. an object with daily-python ``EventHandler`` methods (``on_dialin_ready(sip_endpoint)``,
   ``on_dialin_connected(data)`` … ``on_dialout_warning(data)``), dispatched the way
   daily-python does it (reference notes §1): ``on_dialin_ready`` gets only the
   ``sipEndpoint`` string and is not called when the event has none; the other nine get the
   event as a dict without ``action`` (serde-flatten consumes it) and without
   ``callClientId`` (daily-js adds that key, daily-python does not); a missing method means
   the event is not handled; non-telephony events are not dispatched. Given a class, each
   stream gets a fresh instance;
3. any program (:class:`Program`): a command reading one stream as NDJSON on stdin. Exit 0
   means handled; a non-zero exit, a crash or a timeout is a failure, with its stderr.

:func:`fuzz_consumer` runs hypothesis over the strategy families of
:mod:`conformance.strategies` and returns a :class:`ConsumerFailure` per failing family:
the shrunk stream, the exception type and the consumer's own traceback frames, and the
NDJSON file it was written to with a one-line command replaying it.

"Clean rejection" of broken input (opt-in): the consumer raises one of the exception types
the user declares (default :data:`DEFAULT_REJECT`: ``ValueError``, which pydantic's
``ValidationError`` and ``json.JSONDecodeError`` are) or, for a program, exits with one of
the declared codes (default 65, ``EX_DATAERR``). Ignoring broken input is fine too. Any other
exception (``KeyError``, ``TypeError``, ``AttributeError``: the accidents of unguarded
code) or exit code is a failure. Valid input must never raise nor exit non-zero.

This module does not import pytest, and imports hypothesis only inside :func:`fuzz_consumer`.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schemas import ACTIONS

__all__ = [
    "DEFAULT_EXAMPLES",
    "DEFAULT_REJECT",
    "DEFAULT_REJECT_EXIT_CODES",
    "DEFAULT_SEED",
    "FAMILIES",
    "ConsumerFailed",
    "ConsumerFailure",
    "Delivery",
    "Driver",
    "Program",
    "as_consumer",
    "fuzz_consumer",
    "load_consumer",
    "resolve_exception",
]

Event = dict[str, Any]

#: Examples per family: enough to catch every planted bug in tests/fuzz with the default seed
#: (tests/fuzz/test_plugin.py); a trivial consumer is fuzzed in about 1.5 s.
DEFAULT_EXAMPLES = 60
DEFAULT_SEED = 0
DEFAULT_REJECT: tuple[type[BaseException], ...] = (ValueError,)
DEFAULT_REJECT_EXIT_CODES: tuple[int, ...] = (65,)
DEFAULT_TIMEOUT = 10.0
#: The strategy families, in the order they run. The broken ones are opt-in.
FAMILIES: tuple[str, ...] = ("events", "streams", "broken-events", "broken-streams")
VALID_FAMILIES: tuple[str, ...] = ("events", "streams")

_HANDLER_METHODS = {action: "on_" + action.replace("-", "_") for action in ACTIONS}
_MAX_STDERR = 4000


# --- the consumers ---------------------------------------------------------------------
@dataclass(frozen=True)
class Program:
    """A command that reads one stream as NDJSON on stdin; exit 0 means handled.

    Arguments:
        command: the command line (split like a POSIX shell, no shell involved) or its argv.
        timeout: seconds before the program is killed and the stream counts as a failure.
        cwd: the working directory (default: the current one).
    """

    command: str | Sequence[str]
    timeout: float = DEFAULT_TIMEOUT
    cwd: str | None = None

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command) if isinstance(self.command, str) else list(self.command)

    @property
    def display(self) -> str:
        return self.command if isinstance(self.command, str) else shlex.join(self.command)


@dataclass
class Delivery:
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


class Driver:
    """Delivers streams to one consumer; :func:`as_consumer` builds it.

    Arguments:
        target: the callable, EventHandler (class or instance) or :class:`Program`.
        name: how reports name it (``module:object`` or the command line).
        kind: ``"callable"``, ``"handler"`` or ``"program"``.
    """

    def __init__(self, target: Any, name: str, kind: str) -> None:
        self.target = target
        self.name = name
        self.kind = kind

    def deliver(
        self,
        stream: Sequence[Event],
        broken: bool = False,
        reject: tuple[type[BaseException], ...] = DEFAULT_REJECT,
        reject_exit_codes: tuple[int, ...] = DEFAULT_REJECT_EXIT_CODES,
    ) -> Delivery:
        """Deliver one stream; for ``broken`` input, a declared rejection is not a failure."""
        if self.kind == "program":
            return self._run_program(stream, broken, reject_exit_codes)
        # Each event is a fresh copy (as a real SDK builds a fresh object per event), so a
        # consumer that mutates its argument cannot change what the report shows.
        lines = [json.dumps(e, ensure_ascii=False) for e in stream]
        loop: asyncio.AbstractEventLoop | None = None
        index = 0
        try:
            calls = self._calls(lines)
            for index, call in calls:  # noqa: B007 - `index` is read in the except clause
                result = call()
                if inspect.isawaitable(result):
                    if loop is None:
                        loop = asyncio.new_event_loop()
                    loop.run_until_complete(_awaited(result))
        except Exception as exc:
            if broken and isinstance(exc, reject):
                return Delivery("rejected", exception=exc, index=index)
            return Delivery(
                "failed", exception=exc, index=index, consumer_traceback=_consumer_frames(exc), reason=_one_line(exc)
            )
        finally:
            if loop is not None:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
        return Delivery("handled")

    def _calls(self, lines: list[str]) -> Iterable[tuple[int, Callable[[], Any]]]:
        """``(index, call)`` for each event the consumer gets, in order."""
        if self.kind == "callable":
            fn = self.target
            for i, line in enumerate(lines):
                event = json.loads(line)
                yield i, functools.partial(fn, event)
            return
        handler = self.target() if isinstance(self.target, type) else self.target  # fresh per stream
        for i, line in enumerate(lines):
            event = json.loads(line)
            action = event.get("action")
            method = getattr(handler, _HANDLER_METHODS[action], None) if action in _HANDLER_METHODS else None
            if method is None:
                continue  # not a telephony event, or not handled: daily-python calls nothing
            if action == "dialin-ready":
                if "sipEndpoint" not in event:
                    continue  # daily-python's args_from_event returns None: no call
                endpoint = event["sipEndpoint"]
                yield i, functools.partial(method, endpoint)
            else:
                data = {k: v for k, v in event.items() if k not in ("action", "callClientId")}
                yield i, functools.partial(method, data)

    def _run_program(self, stream: Sequence[Event], broken: bool, reject_exit_codes: tuple[int, ...]) -> Delivery:
        program: Program = self.target
        data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in stream).encode("utf-8")
        try:
            done = subprocess.run(
                program.argv, input=data, capture_output=True, timeout=program.timeout, cwd=program.cwd, check=False
            )
        except subprocess.TimeoutExpired as exc:
            stderr = _text(exc.stderr)
            return Delivery("failed", stderr=stderr, reason=f"timed out after {program.timeout:g}s")
        stderr = _text(done.stderr)
        code = done.returncode
        if code == 0:
            return Delivery("handled", exit_code=0)
        if broken and code in reject_exit_codes:
            return Delivery("rejected", exit_code=code, stderr=stderr)
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            reason = f"killed by {name}"
        else:
            reason = f"exited with code {code}"
        return Delivery("failed", exit_code=code, stderr=stderr, reason=reason)


async def _awaited(result: Any) -> Any:
    return await result


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= _MAX_STDERR else "…" + text[-_MAX_STDERR:]


def _one_line(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]


_OWN_FILES = {os.path.abspath(__file__)}
_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__))


def _consumer_frames(exc: BaseException) -> str:
    """The traceback from the consumer's entry point down (our frames and asyncio's removed)."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(f.filename) not in _OWN_FILES and not os.path.abspath(f.filename).startswith(_ASYNCIO_DIR)
    ]
    out = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    return out + "".join(traceback.format_exception_only(type(exc), exc))


def _is_handler(obj: Any) -> bool:
    return any(callable(getattr(obj, m, None)) for m in _HANDLER_METHODS.values())


def as_consumer(target: Any, name: str | None = None) -> Driver:
    """A :class:`Driver` for ``target``: a :class:`Program`, an EventHandler class or
    instance (anything with an ``on_dialin_*``/``on_dialout_*`` method), or a callable."""
    if isinstance(target, Driver):
        return target
    if isinstance(target, Program):
        return Driver(target, name or target.display, "program")
    if _is_handler(target):
        return Driver(target, name or _name_of(target), "handler")
    if callable(target):
        return Driver(target, name or _name_of(target), "callable")
    raise TypeError(
        f"{target!r} is not a consumer: pass a callable taking one event, an object or class with "
        "daily-python EventHandler methods (on_dialin_connected …), or a Program"
    )


def _name_of(obj: Any) -> str:
    obj_for_name = obj if isinstance(obj, type) or (callable(obj) and hasattr(obj, "__qualname__")) else type(obj)
    module = getattr(obj_for_name, "__module__", "?")
    return f"{module}:{getattr(obj_for_name, '__qualname__', repr(obj))}"


def load_consumer(spec: str) -> Any:
    """The object named by ``MODULE:OBJECT`` (``OBJECT`` may be dotted), importing MODULE
    from the current folder first, as ``uvicorn module:app`` does."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{spec!r} is not MODULE:OBJECT (for example handlers:on_event)")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} from {cwd}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


def resolve_exception(name: str) -> type[BaseException]:
    """An exception class from ``ValueError``, ``package.module.Error`` or ``module:Error``."""
    name = name.strip()
    import builtins

    found: Any = getattr(builtins, name, None) if re.fullmatch(r"\w+", name) else None
    if found is None:
        module, _, attr = name.replace(":", ".").rpartition(".")
        if module:
            try:
                found = load_consumer(f"{module}:{attr}")
            except ValueError:
                found = None
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        raise ValueError(f"{name!r} is not an exception class (use ValueError, or package.module.Error)")
    return found


# --- failures --------------------------------------------------------------------------
@dataclass
class ConsumerFailure:
    """A consumer failing on the shrunk (minimal) stream of one family.

    Arguments:
        consumer: the consumer's name (``module:object`` or the command line).
        family: ``events``, ``streams``, ``broken-events`` or ``broken-streams``.
        events: the minimal failing stream (a single event for the ``events`` families).
        delivery: what happened (the exception and its traceback, or the exit and stderr).
        rule: for broken input, the rule the stream breaks.
        description: for broken input, what was broken.
        path: the NDJSON file holding ``events``.
        replay: the one-line command that feeds that file to the consumer again.
        check: the command that checks that file against the schemas and lifecycle rules.
        flaky: the consumer did not fail when the minimal stream was delivered again.
    """

    consumer: str
    family: str
    events: list[Event]
    delivery: Delivery
    rule: str | None = None
    description: str = ""
    path: Path | None = None
    replay: str = ""
    check: str = ""
    flaky: bool = False
    examples: int = 0
    seed: int | None = None

    @property
    def exception_type(self) -> str:
        exc = self.delivery.exception
        return type(exc).__name__ if exc is not None else ""

    def render(self) -> str:
        """The failure as text: what failed and why, the minimal stream, where it was written."""
        d = self.delivery
        what = "valid" if self.rule is None else f"broken ({self.rule}: {self.description})"
        kind = "event" if self.family.endswith("events") else "stream"
        lines = [f"{self.consumer} failed on a {what} {kind} ({self.family}): {d.reason}"]
        if self.rule is not None:
            lines.append(
                "Broken input may be ignored or rejected cleanly (--telephony-reject, --telephony-reject-exit); "
                "this was neither."
            )
        if d.consumer_traceback:
            lines += ["", d.consumer_traceback.rstrip()]
        if d.exit_code is not None or d.stderr:
            lines += ["", "stderr:" if d.stderr else "stderr: (empty)"]
            lines += ["  " + s for s in d.stderr.rstrip().splitlines()]
        n = len(self.events)
        lines += ["", f"Minimal failing {kind} ({n} event{'s' if n != 1 else ''}):"]
        for i, event in enumerate(self.events):
            marker = ">" if d.index == i and n > 1 else " "
            lines.append(f" {marker}{json.dumps(event, ensure_ascii=False)}")
        if self.flaky:
            lines += ["", "(flaky: it did not fail again when replayed; does the consumer keep state between streams?)"]
        if self.path is not None:
            lines += ["", f"Written to {self.path}", f"Replay:    {self.replay}", f"Check it:  {self.check}"]
        return "\n".join(lines)


class ConsumerFailed(AssertionError):
    """Raised by :func:`fuzz_consumer` (``raise_on_failure=True``); ``str()`` is the report."""

    def __init__(self, failures: list[ConsumerFailure]) -> None:
        self.failures = failures
        super().__init__("\n\n".join(f.render() for f in failures))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80] or "consumer"


def write_failure(failure: ConsumerFailure, directory: Path, spec: str | None) -> None:
    """Write the failing stream as NDJSON and fill in the replay and check commands."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_slug(failure.consumer)}--{failure.family}.ndjson"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in failure.events), encoding="utf-8")
    failure.path = path
    shown = shlex.quote(str(path))
    if spec is None:  # a program
        failure.replay = f"{failure.consumer} < {shown}"
    else:
        failure.replay = f"python -m conformance.consumers {shlex.quote(spec)} {shown}"
    flags = " --telephony-partial --telephony-allow-empty" if failure.family.endswith("events") else ""
    failure.check = f"pytest --telephony-conformance {shown}{flags}"


# --- fuzzing ---------------------------------------------------------------------------
def _family_strategy(family: str) -> Any:
    from hypothesis import strategies as st

    from .strategies import BROKEN_EVENT_RULES, BROKEN_STREAM_RULES, broken_events, broken_streams, events, streams

    # The event families draw one event of each action (one broken event per rule) per
    # example, each delivered alone: every action is tried in every example, so a bug in the
    # handling of one action is found within few examples, whatever the seed.
    if family == "events":
        return st.tuples(*(events(a) for a in ACTIONS))
    if family == "streams":
        return streams()
    if family == "broken-events":
        return st.tuples(*(broken_events(r) for r in BROKEN_EVENT_RULES))
    if family == "broken-streams":
        return st.tuples(*(broken_streams(r) for r in BROKEN_STREAM_RULES))
    raise ValueError(f"unknown family {family!r} (known: {', '.join(FAMILIES)})")


def _units(family: str, value: Any, program: bool) -> list[tuple[list[Event], Any]]:
    """The streams one example delivers: ``(events, Broken or None)``.

    A Python consumer gets each lone event as a stream of its own (a fresh EventHandler per
    event). A program would need a process per event, so it gets the example's ten lone
    events as one stream, each from a call client of its own: still a valid capture that
    begins mid-call, as every event belongs to a different session. A failure is then
    narrowed to the one event that fails alone (see :func:`_narrow`).
    """
    if family == "events":
        if program:
            return [([{**e, "callClientId": f"{e.get('callClientId')}#{i}"} for i, e in enumerate(value)], None)]
        return [([e], None) for e in value]
    if family == "streams":
        return [(value, None)]
    return [(b.events, b) for b in value]


def _key(units: list[tuple[list[Event], Any]]) -> str:
    return json.dumps([[u[0], getattr(u[1], "rule", None)] for u in units], sort_keys=True, default=str)


def fuzz_family(
    consumer: Any,
    family: str,
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int | None = DEFAULT_SEED,
    reject: tuple[type[BaseException], ...] = DEFAULT_REJECT,
    reject_exit_codes: tuple[int, ...] = DEFAULT_REJECT_EXIT_CODES,
    shrink_budget: int | None = None,
) -> ConsumerFailure | None:
    """Fuzz one family; the failure on the shrunk example, or None when the consumer held up.

    ``shrink_budget`` caps the deliveries spent shrinking a failure (default 100 for a
    program, 1,000 for a Python consumer), so a slow consumer is not shrunk for minutes.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed

    driver = as_consumer(consumer)
    strategy = _family_strategy(family)
    program = driver.kind == "program"
    budget = shrink_budget if shrink_budget is not None else (100 if program else 1000)
    seen: list[tuple[list[Event], Any, Delivery]] = []
    best: dict[str, Any] = {"key": None, "exc": None, "spent": 0}

    # Settings are explicit, not inherited from the user's hypothesis profile: the run is the
    # same in CI and on a laptop. No database: a replayed failure would make runs differ.
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=seed is None,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=(
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ),
    )
    @given(strategy)
    def run(value: Any) -> None:
        units = _units(family, value, program)
        if best["key"] is not None and best["spent"] >= budget:
            # Shrink budget spent (a program costs a process per stream): from now on only the
            # best failing example fails, so hypothesis stops shrinking, still deterministically.
            if _key(units) == best["key"]:
                raise best["exc"]
            return
        for stream, broken in units:
            delivery = driver.deliver(stream, broken is not None, reject, reject_exit_codes)
            if best["key"] is not None:
                best["spent"] += 1
            if delivery.failed:
                seen.append((stream, broken, delivery))
                # Re-raise the consumer's own exception, so hypothesis tells bugs apart by
                # where they were raised and shrinks each failure towards itself.
                exc = delivery.exception or _ProgramFailed(delivery.reason)
                best.update(key=_key(units), exc=exc)
                raise exc

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    try:
        run()
    except Exception as exc:
        if not seen:
            raise  # not the consumer's failure: a bug here or in hypothesis, shown as it is
        # The last failing delivery is hypothesis's final replay of the shrunk example.
        stream, broken, delivery = seen[-1]
        flaky = exc is not best["exc"]
        if program and family == "events":
            stream, delivery = _narrow(driver, stream, delivery)
        return ConsumerFailure(
            consumer=driver.name,
            family=family,
            events=stream,
            delivery=delivery,
            rule=broken.rule if broken is not None else None,
            description=broken.description if broken is not None else "",
            flaky=flaky,
            examples=examples,
            seed=seed,
        )
    return None


def _narrow(driver: Driver, stream: list[Event], delivery: Delivery) -> tuple[list[Event], Delivery]:
    """The one event of a program's failing batch that fails alone, if there is one."""
    for event in stream:
        alone = driver.deliver([event])
        if alone.failed:
            return [event], alone
    return stream, delivery


class _ProgramFailed(Exception):
    """A program's failure, raised inside hypothesis so that it shrinks the stream."""


def fuzz_consumer(
    consumer: Any,
    *,
    broken: bool = False,
    families: Sequence[str] | None = None,
    examples: int = DEFAULT_EXAMPLES,
    seed: int | None = DEFAULT_SEED,
    reject: Sequence[type[BaseException]] = DEFAULT_REJECT,
    reject_exit_codes: Sequence[int] = DEFAULT_REJECT_EXIT_CODES,
    failures_dir: str | Path = ".telephony-fuzz",
    spec: str | None = None,
    raise_on_failure: bool = True,
) -> list[ConsumerFailure]:
    """Fuzz a consumer with every family; for use in your own tests.

    Arguments:
        consumer: a callable (sync or async), an EventHandler class or instance, or a
            :class:`Program`.
        broken: also deliver broken events and streams (the consumer may ignore them or
            reject them cleanly).
        families: which of :data:`FAMILIES` to run (default: the valid ones, plus the broken
            ones when ``broken``).
        examples: hypothesis examples per family.
        seed: the hypothesis seed; ``None`` derandomizes (also deterministic).
        reject: exception types that reject broken input cleanly.
        reject_exit_codes: exit codes with which a program rejects broken input cleanly.
        failures_dir: where failing streams are written as NDJSON.
        spec: ``MODULE:OBJECT`` naming the consumer, for the replay command (a guess from
            the consumer's module and name by default).
        raise_on_failure: raise :class:`ConsumerFailed` (an ``AssertionError`` whose text is
            the report) instead of returning the failures.

    Returns the failures, one per failing family (empty when the consumer held up).
    """
    driver = as_consumer(consumer)
    chosen = list(families) if families is not None else [*VALID_FAMILIES, *(FAMILIES[2:] if broken else ())]
    failures = []
    for family in chosen:
        failure = fuzz_family(
            driver,
            family,
            examples=examples,
            seed=seed,
            reject=tuple(reject),
            reject_exit_codes=tuple(reject_exit_codes),
        )
        if failure is not None:
            replay_spec = None if driver.kind == "program" else (spec or driver.name)
            write_failure(failure, Path(failures_dir), replay_spec)
            failures.append(failure)
    if failures and raise_on_failure:
        raise ConsumerFailed(failures)
    return failures


# --- replay: python -m conformance.consumers MODULE:OBJECT FILE ---------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Feed an NDJSON file to a Python consumer; its exception propagates with a full traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m conformance.consumers MODULE:OBJECT FILE.ndjson", file=sys.stderr)
        return 2
    spec, path = args
    driver = as_consumer(load_consumer(spec), spec)
    events = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    delivery = driver.deliver(events)
    if delivery.failed:
        print(delivery.consumer_traceback, file=sys.stderr, end="")
        print(f"{spec} failed on event {(delivery.index or 0) + 1} of {len(events)} in {path}", file=sys.stderr)
        return 1
    print(f"{spec} handled {len(events)} event(s) from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
