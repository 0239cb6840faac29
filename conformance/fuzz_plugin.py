"""The fuzzing pytest plugin: ``pytest --telephony-consumer MODULE:OBJECT`` or
``pytest --telephony-consumer-cmd "node app.js"`` fuzzes event consumers, with no test code.

One test item per consumer and strategy family (``telephony-fuzz::handlers:on_event::streams``);
``--telephony-broken`` adds the broken families. When consumers are given and no test paths
are, only the fuzz items run: the command works in any folder, with or without a conftest.
Each hook delegates to :mod:`conformance.consumers` in a line or two; state lives in
``config.stash``.

hypothesis is an optional dependency (``telephony-conformance[fuzz]``): this module is loaded
by every pytest run of a project that installed the package, so it imports hypothesis only
when a fuzz option is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .consumers import (
    DEFAULT_EXAMPLES,
    DEFAULT_REJECT_EXIT_CODES,
    DEFAULT_SEED,
    DEFAULT_TIMEOUT,
    FAMILIES,
    VALID_FAMILIES,
    ConsumerFailed,
    ConsumerFailure,
    Driver,
    Program,
    as_consumer,
    fuzz_consumer,
    fuzz_family,
    load_consumer,
    resolve_exception,
    write_failure,
)
from .pytest_items import GeneratedCollector, ReportedFailure, ReportingItem, skip_project_tests

__all__ = ["FuzzItem", "fuzz_consumer", "telephony_fuzz"]

_STATE = pytest.StashKey["_FuzzState"]()
_FAILURES_DIR = ".telephony-fuzz"


@dataclass
class _FuzzState:
    consumers: list[tuple[Driver, str | None]]  # (driver, MODULE:OBJECT or None for a program)
    families: tuple[str, ...]
    examples: int
    seed: int
    reject: tuple[type[BaseException], ...]
    reject_exit_codes: tuple[int, ...]
    failures_dir: Path


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("telephony-fuzz", "fuzz Daily telephony event consumers")
    group.addoption(
        "--telephony-consumer",
        action="append",
        default=[],
        metavar="MODULE:OBJECT",
        help="fuzz a Python consumer: a callable taking one event (sync or async) or a daily-python "
        "EventHandler class/instance; MODULE is imported from the current folder; repeatable",
    )
    group.addoption(
        "--telephony-consumer-cmd",
        action="append",
        default=[],
        metavar="COMMAND",
        help='fuzz a program reading one stream as NDJSON on stdin ("node app.js"); exit 0 = handled; repeatable',
    )
    group.addoption(
        "--telephony-examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        metavar="N",
        help=f"hypothesis examples per family (default {DEFAULT_EXAMPLES})",
    )
    group.addoption(
        "--telephony-seed",
        default=str(DEFAULT_SEED),
        metavar="S",
        help=f"hypothesis seed (default {DEFAULT_SEED}: runs are deterministic); 'random' picks one and prints it",
    )
    group.addoption(
        "--telephony-broken",
        action="store_true",
        default=False,
        help="also deliver broken events and streams; the consumer may ignore them or reject them cleanly",
    )
    group.addoption(
        "--telephony-reject",
        default="ValueError",
        metavar="EXC[,EXC]",
        help="exception types that reject broken input cleanly (default ValueError; dotted or module:Name)",
    )
    group.addoption(
        "--telephony-reject-exit",
        default=",".join(str(c) for c in DEFAULT_REJECT_EXIT_CODES),
        metavar="CODE[,CODE]",
        help="exit codes with which a program rejects broken input cleanly (default 65, EX_DATAERR)",
    )
    group.addoption(
        "--telephony-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"seconds a program may take per stream (default {DEFAULT_TIMEOUT:g})",
    )


def _settings(config: pytest.Config) -> dict[str, Any]:
    """The fuzz settings from the command line; ``pytest.UsageError`` names a bad value."""
    try:
        raw_seed = str(config.getoption("telephony_seed"))
        seed = int.from_bytes(os.urandom(4), "big") if raw_seed == "random" else int(raw_seed)
        reject = tuple(resolve_exception(n) for n in str(config.getoption("telephony_reject")).split(",") if n.strip())
        codes = tuple(int(c) for c in str(config.getoption("telephony_reject_exit")).split(",") if c.strip())
    except ValueError as exc:
        raise pytest.UsageError(f"telephony-fuzz: {exc}") from None
    examples = int(config.getoption("telephony_examples"))
    if examples < 1:
        raise pytest.UsageError("telephony-fuzz: --telephony-examples must be at least 1")
    broken = bool(config.getoption("telephony_broken"))
    return {
        "examples": examples,
        "seed": seed,
        "reject": reject,
        "reject_exit_codes": codes,
        "families": FAMILIES if broken else VALID_FAMILIES,
    }


def pytest_configure(config: pytest.Config) -> None:
    specs: list[str] = config.getoption("telephony_consumer")
    commands: list[str] = config.getoption("telephony_consumer_cmd")
    if not specs and not commands:
        return
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        raise pytest.UsageError(
            "telephony-fuzz needs hypothesis: pip install 'telephony-conformance[fuzz]'"
        ) from None
    settings = _settings(config)
    consumers: list[tuple[Driver, str | None]] = []
    try:
        for spec in specs:
            consumers.append((as_consumer(load_consumer(spec), spec), spec))
    except (ValueError, TypeError) as exc:
        raise pytest.UsageError(f"telephony-fuzz: --telephony-consumer: {exc}") from None
    timeout = float(config.getoption("telephony_timeout"))
    for command in commands:
        program = Program(command, timeout=timeout)
        if not program.argv:
            raise pytest.UsageError("telephony-fuzz: --telephony-consumer-cmd is empty")
        consumers.append((as_consumer(program), None))
    config.stash[_STATE] = _FuzzState(
        consumers=consumers,
        failures_dir=Path(config.invocation_params.dir) / _FAILURES_DIR,
        **settings,
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return None
    return (
        f"telephony-fuzz: seed {state.seed} (--telephony-seed {state.seed} replays this run), "
        f"{state.examples} examples per family, families: {', '.join(state.families)}"
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return skip_project_tests(config, config.stash.get(_STATE, None) is not None)


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection, so those select our items too
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    for driver, spec in state.consumers:
        parent = ConsumerCollector.from_parent(session, name=driver.name, nodeid=f"telephony-fuzz::{driver.name}")
        for family in state.families:
            items.append(FuzzItem.from_parent(parent, name=family, driver=driver, spec=spec, family=family))


class ConsumerCollector(GeneratedCollector):
    """One consumer; its children, one per family, are created by the plugin."""


class FuzzFailure(ReportedFailure):
    """Raised by a :class:`FuzzItem` whose consumer failed; carries the report."""

    def __init__(self, failure: ConsumerFailure) -> None:
        self.failure = failure
        super().__init__(failure.render())


class FuzzItem(ReportingItem):
    """Fuzzes one consumer with one strategy family; fails with the shrunk stream."""

    def __init__(self, *, driver: Driver, spec: str | None, family: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.driver = driver
        self.spec = spec
        self.family = family

    def runtest(self) -> None:
        state = self.config.stash[_STATE]
        failure = fuzz_family(
            self.driver,
            self.family,
            examples=state.examples,
            seed=state.seed,
            reject=state.reject,
            reject_exit_codes=state.reject_exit_codes,
        )
        if failure is not None:
            write_failure(failure, state.failures_dir, self.spec)
            raise FuzzFailure(failure)

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        return self.path, None, f"{self.driver.name}::{self.family}"


@pytest.fixture
def telephony_fuzz(request: pytest.FixtureRequest) -> Callable[..., list[ConsumerFailure]]:
    """``telephony_fuzz(consumer, **options)``: fuzz a consumer inside your own test.

    The options are those of :func:`~conformance.consumers.fuzz_consumer`; their defaults come
    from the command line (``--telephony-examples``, ``--telephony-seed``,
    ``--telephony-broken``, ``--telephony-reject`` …). On a failure the test fails with the
    report: the shrunk stream, the consumer's traceback and the replay command.
    """
    config = request.config

    def fuzz(consumer: Any, **options: Any) -> list[ConsumerFailure]:
        defaults = _settings(config)
        defaults.pop("families")
        defaults["broken"] = bool(config.getoption("telephony_broken"))
        defaults["failures_dir"] = Path(config.invocation_params.dir) / _FAILURES_DIR
        if isinstance(consumer, str):  # "node app.js" is a program; MODULE:OBJECT a Python consumer
            if ":" in consumer and " " not in consumer:
                defaults["spec"] = consumer
                consumer = load_consumer(consumer)
            else:
                consumer = Program(consumer, timeout=float(config.getoption("telephony_timeout")))
        try:
            return fuzz_consumer(consumer, **{**defaults, **options})
        except ConsumerFailed as exc:
            pytest.fail(str(exc), pytrace=False)

    return fuzz
