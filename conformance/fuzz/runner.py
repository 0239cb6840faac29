"""Running hypothesis over a consumer: each strategy family, shrunk to a minimal failure.

The families run in order: ``events`` and ``streams`` (valid input, which must always be
handled) and, opt-in, ``broken-events`` and ``broken-streams`` (which may be ignored or
rejected cleanly). Each example is delivered through the consumer's adapter
(:mod:`.consumers`); the first failure is shrunk, and returned as a
:class:`~.failures.ConsumerFailure`.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from ..surfaces import ACTIONS
from .consumers import (
    DEFAULT_REJECT,
    DEFAULT_REJECT_EXIT_CODES,
    Consumer,
    ConsumerSetupError,
    Outcome,
    Rejection,
    as_consumer,
)
from .failures import ConsumerFailed, ConsumerFailure, write_failure
from .settings import DEFAULT_EXAMPLES, DEFAULT_SEED, FAILURES_DIR, FAMILIES, VALID_FAMILIES
from .strategies import BROKEN_EVENT_RULES, BROKEN_STREAM_RULES, broken_events, broken_streams, events, streams

Event = dict[str, Any]


def _family_strategy(family: str, surface: str) -> Any:
    # The event families draw one event of each action (one broken event per rule) per
    # example, each delivered alone: every action is tried in every example, so a bug in the
    # handling of one action is found within few examples, whatever the seed.
    if family == "events":
        return st.tuples(*(events(a, surface) for a in ACTIONS))
    if family == "streams":
        return streams(surface=surface)
    if family == "broken-events":
        return st.tuples(*(broken_events(r, surface) for r in BROKEN_EVENT_RULES))
    if family == "broken-streams":
        return st.tuples(*(broken_streams(r, surface) for r in BROKEN_STREAM_RULES))
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
    rejection = Rejection(reject, reject_exit_codes)
    strategy = _family_strategy(family, driver.surface)
    program = driver.program
    budget = shrink_budget if shrink_budget is not None else (100 if program else 1000)
    seen: list[tuple[list[Event], Any, Outcome]] = []
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
            delivery = driver.deliver(stream, rejection if broken is not None else None)
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
        if not seen or isinstance(exc, ConsumerSetupError):
            raise  # not the consumer's failure on an event: a setup error, or a bug here or in hypothesis
        # The last failing delivery is hypothesis's final replay of the shrunk example.
        stream, broken, delivery = seen[-1]
        flaky = exc is not best["exc"]
        if program and family == "events":
            stream, delivery = _narrow(driver, stream, delivery)
        elif family == "streams" and not flaky:
            stream, delivery = _shorten(driver, stream, delivery, 20 if program else 500)
        return ConsumerFailure(
            consumer=driver.name,
            surface=driver.surface,
            family=family,
            events=stream,
            outcome=delivery,
            rule=broken.rule if broken is not None else None,
            description=broken.description if broken is not None else "",
            flaky=flaky,
            examples=examples,
            seed=seed,
        )
    return None


def _narrow(driver: Consumer, stream: list[Event], delivery: Outcome) -> tuple[list[Event], Outcome]:
    """The one event of a program's failing batch that fails alone, if there is one."""
    for event in stream:
        alone = driver.deliver([event])
        if alone.failed:
            return [event], alone
    return stream, delivery


def _shorten(driver: Consumer, stream: list[Event], delivery: Outcome, budget: int) -> tuple[list[Event], Outcome]:
    """The shortest failing stream found by dropping events one at a time, first to last, while
    the consumer still fails the same way; at most ``budget`` deliveries, so always the same.

    hypothesis shrinks a stream as the strategy built it, a session at a time, so it can leave
    a session's start and end around the one event that fails alone. Events dropped from a
    valid stream leave a valid capture that begins or ends mid-call (--partial): every event
    is still valid, and no step is repeated, reordered or changed.
    """
    want = _signature(delivery)
    index = 0
    while index < len(stream) and budget > 0 and len(stream) > 1:
        shorter = stream[:index] + stream[index + 1 :]
        outcome = driver.deliver(shorter)
        budget -= 1
        if outcome.failed and _signature(outcome) == want:
            stream, delivery = shorter, outcome
        else:
            index += 1
    return stream, delivery


def _signature(outcome: Outcome) -> tuple[Any, ...]:
    """What makes two failures the same one: the exception type and where it was raised, or a
    program's exit."""
    exc = outcome.exception
    if exc is None:
        return (outcome.reason,)
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ is not None else []
    return type(exc), tuple((frame.filename, frame.lineno) for frame in where)


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
    failures_dir: str | Path | Callable[[], Path] = FAILURES_DIR,
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
        failures_dir: where failing streams are written as NDJSON (a folder of this user's
            own, made if need be), or a function that gives it, called at the first failure.
        spec: ``MODULE:OBJECT`` naming the consumer, for the replay command (a guess from
            the consumer's module and name by default).
        raise_on_failure: raise :class:`ConsumerFailed` (an ``AssertionError`` whose text is
            the report) instead of returning the failures.

    Returns the failures, one per failing family (empty when the consumer held up).
    """
    driver = as_consumer(consumer)
    chosen = list(families) if families is not None else [*VALID_FAMILIES, *(FAMILIES[2:] if broken else ())]
    failures = []
    try:
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
                folder = failures_dir if callable(failures_dir) else Path(failures_dir)
                write_failure(failure, folder, lambda path: driver.replay(spec, path))
                failures.append(failure)
    finally:
        if driver is not consumer:  # an adapter made here: a program it keeps running stops
            driver.close()
    if failures and raise_on_failure:
        raise ConsumerFailed(failures)
    return failures
