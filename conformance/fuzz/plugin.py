"""The fuzzing pytest plugin: ``pytest --telephony-consumer MODULE:OBJECT`` or
``pytest --telephony-consumer-cmd "node app.js"`` fuzzes event consumers, with no test code.

One test item per consumer and strategy family (``telephony-fuzz::handlers:on_event::streams``);
``--telephony-broken`` adds the broken families. The hooks delegate to a run object
(:class:`FuzzRun`) registered when consumers are given; its settings come from
:mod:`.settings`, the fuzzing from :mod:`.runner`.

hypothesis is an optional dependency (the ``fuzz`` extra): this module is loaded by every
pytest run of a project that installed the package, so it imports hypothesis only when a
consumer is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from ..pytest_support import GeneratedItemsPlugin, Option, ReportedFailure, ReportingItem, TargetItems, add_options
from .consumers import DEFAULT_REJECT_EXIT_CODES, DEFAULT_TIMEOUT, Consumer, Program
from .settings import (
    DEFAULT_EXAMPLES,
    DEFAULT_SEED,
    EXTRA_HINT,
    FAILURES_DIR,
    FuzzSettings,
    SettingsError,
    not_runnable,
    options_defaults,
)

__all__ = ["FuzzItem", "failures_folder", "telephony_fuzz"]

_RUN = "telephony-fuzz-run"

OPTIONS = (
    Option(
        "telephony-consumer",
        "fuzz a Python consumer: a callable taking one event (sync or async) or a daily-python "
        "EventHandler class/instance; MODULE is imported from the current folder; repeatable",
        {"action": "append", "default": [], "metavar": "MODULE:OBJECT"},
    ),
    Option(
        "telephony-pipecat",
        "fuzz a pipecat bot's handlers: FACTORY (sync or async, no arguments) returns its transport with "
        "the handlers registered; a fresh one per stream; repeatable",
        {"action": "append", "default": [], "metavar": "MODULE:FACTORY"},
    ),
    Option(
        "telephony-consumer-cmd",
        'fuzz a program reading one stream as NDJSON on stdin ("node app.js"); exit 0 = handled; repeatable',
        {"action": "append", "default": [], "metavar": "COMMAND"},
    ),
    Option(
        "telephony-consumer-loop",
        "fuzz a program that handles stream after stream: each ended by an empty line and answered with "
        "a line 'handled' or 'rejected'; started once, not per stream (docs/fuzzing.md); repeatable",
        {"action": "append", "default": [], "metavar": "COMMAND"},
    ),
    Option(
        "telephony-examples",
        f"hypothesis examples per family (default {DEFAULT_EXAMPLES})",
        {"type": int, "default": DEFAULT_EXAMPLES, "metavar": "N"},
    ),
    Option(
        "telephony-seed",
        f"hypothesis seed (default {DEFAULT_SEED}: runs are deterministic); 'random' picks one and prints it",
        {"default": str(DEFAULT_SEED), "metavar": "S"},
    ),
    Option(
        "telephony-broken",
        "also deliver broken events and streams; the consumer may ignore them or reject them cleanly",
        {"action": "store_true", "default": False},
    ),
    Option(
        "telephony-reject",
        "exception types that reject broken input cleanly (default ValueError; dotted or module:Name)",
        {"default": "ValueError", "metavar": "EXC[,EXC]"},
    ),
    Option(
        "telephony-reject-exit",
        "exit codes with which a program rejects broken input cleanly (default 65, EX_DATAERR)",
        {"default": ",".join(str(c) for c in DEFAULT_REJECT_EXIT_CODES), "metavar": "CODE[,CODE]"},
    ),
    Option(
        "telephony-timeout",
        f"seconds a program may take per stream (default {DEFAULT_TIMEOUT:g})",
        {"type": float, "default": DEFAULT_TIMEOUT, "metavar": "SECONDS"},
    ),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser, "telephony-fuzz", "fuzz Daily telephony event consumers", OPTIONS)


def pytest_configure(config: pytest.Config) -> None:
    try:
        settings = FuzzSettings.from_options(config.getoption, lambda: failures_folder(config))
    except SettingsError as exc:
        raise pytest.UsageError(f"telephony-fuzz: {exc}") from None
    if settings is not None:
        _require_hypothesis()
        config.pluginmanager.register(FuzzRun(settings), _RUN)


def failures_folder(config: pytest.Config) -> Path:
    """Where failing streams are written: ``telephony-fuzz`` in pytest's cache folder
    (``.pytest_cache/d/``, which pytest keeps out of git), made at the first failure; with the
    cache plugin off (``-p no:cacheprovider``), ``.telephony-fuzz`` in the root folder."""
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("telephony-fuzz"))
    return config.rootpath / FAILURES_DIR


def _require_hypothesis() -> None:
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        raise pytest.UsageError(f"telephony-fuzz needs hypothesis: {EXTRA_HINT}") from None


class FuzzRun(GeneratedItemsPlugin):
    """A fuzzing run: one item per consumer and strategy family."""

    prefix = "telephony-fuzz"

    def __init__(self, settings: FuzzSettings) -> None:
        super().__init__(targets_given=True)
        self.settings = settings

    def header(self) -> str:
        s = self.settings
        return (
            f"telephony-fuzz: seed {s.seed} (--telephony-seed {s.seed} replays this run), "
            f"{s.examples} examples per family, families: {', '.join(s.families)}"
        )

    def pytest_unconfigure(self) -> None:
        for consumer, _ in self.settings.consumers:
            consumer.close()  # a program kept running across streams

    def targets(self) -> Iterable[TargetItems]:
        for consumer, spec in self.settings.consumers:
            kwargs = {"consumer": consumer, "spec": spec}
            yield consumer.name, [(FuzzItem, family, {**kwargs, "family": family}) for family in self.settings.families]


class FuzzFailure(ReportedFailure):
    """Raised by a :class:`FuzzItem` whose consumer failed; carries the report."""


class FuzzItem(ReportingItem):
    """Fuzzes one consumer with one strategy family; fails with the shrunk stream."""

    def __init__(self, *, run: FuzzRun, consumer: Consumer, spec: str | None, family: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run
        self.consumer = consumer
        self.spec = spec
        self.family = family

    def runtest(self) -> None:
        from .failures import write_failure
        from .runner import fuzz_family

        settings = self.run.settings
        failure = fuzz_family(
            self.consumer,
            self.family,
            examples=settings.examples,
            seed=settings.seed,
            reject=settings.reject,
            reject_exit_codes=settings.reject_exit_codes,
        )
        if failure is not None:
            write_failure(failure, settings.failures_dir, lambda path: self.consumer.replay(self.spec, path))
            raise FuzzFailure(failure.render())

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        return self.path, None, f"{self.consumer.name}::{self.family}"


@pytest.fixture
def telephony_fuzz(request: pytest.FixtureRequest) -> Callable[..., list[Any]]:
    """``telephony_fuzz(consumer, **options)``: fuzz a consumer inside your own test.

    The options are those of :func:`~conformance.fuzz.runner.fuzz_consumer`; their defaults
    come from the command line (``--telephony-examples``, ``--telephony-seed``,
    ``--telephony-broken``, ``--telephony-reject`` …). On a failure the test fails with the
    report: the shrunk stream, the consumer's traceback and the replay command.
    """
    config = request.config

    def fuzz(consumer: Any, **options: Any) -> list[Any]:
        _require_hypothesis()
        from ..loader import load_object
        from .failures import ConsumerFailed
        from .runner import fuzz_consumer

        try:
            defaults = options_defaults(config.getoption)
        except SettingsError as exc:
            raise pytest.UsageError(f"telephony-fuzz: {exc}") from None
        defaults.pop("families")
        defaults["broken"] = bool(config.getoption("telephony_broken"))
        defaults["failures_dir"] = lambda: failures_folder(config)
        if isinstance(consumer, str):  # "node app.js" is a program; MODULE:OBJECT a Python consumer
            if ":" in consumer and " " not in consumer:
                defaults["spec"] = consumer
                consumer = load_object(consumer)
            else:
                consumer = Program(consumer, timeout=float(config.getoption("telephony_timeout")))
                problem = not_runnable(consumer.argv[0]) if consumer.argv else "the command is empty"
                if problem:
                    pytest.fail(f"telephony_fuzz({consumer.display!r}): {problem}", pytrace=False)
        try:
            return fuzz_consumer(consumer, **{**defaults, **options})
        except ConsumerFailed as exc:
            pytest.fail(str(exc), pytrace=False)

    return fuzz
