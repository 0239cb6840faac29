"""The fuzzer's settings, read and checked from the options a user gives.

This module does not import hypothesis: the plugin declares its options from here in every
pytest run, fuzzing or not.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..loader import LoadError, load_exception, load_object
from .consumers import (
    DEFAULT_REJECT_EXIT_CODES,
    DEFAULT_TIMEOUT,
    Consumer,
    ConsumerSetupError,
    Pipecat,
    Program,
    as_consumer,
)

#: Examples per family: enough to catch every planted bug in tests/fuzz with the default seed.
DEFAULT_EXAMPLES = 60
DEFAULT_SEED = 0
#: The strategy families, in the order they run. The broken ones are opt-in.
FAMILIES: tuple[str, ...] = ("events", "streams", "broken-events", "broken-streams")
VALID_FAMILIES: tuple[str, ...] = ("events", "streams")
#: Where :func:`~.runner.fuzz_consumer` writes failing streams by default, under the current
#: folder; the pytest plugin and fixture use pytest's cache folder (:func:`~.plugin.failures_folder`).
FAILURES_DIR = ".telephony-fuzz"
#: How to install what fuzzing needs, from a clone of this repository.
EXTRA_HINT = "pip install '.[fuzz]' in a clone of telephony-conformance"


class SettingsError(ValueError):
    """A fuzzing option has a value that cannot be used; the message names it."""


@dataclass
class FuzzSettings:
    """What a fuzzing run does, and with what."""

    consumers: list[tuple[Consumer, str | None]]  # (adapter, MODULE:OBJECT or None for a program)
    families: tuple[str, ...]
    examples: int
    seed: int
    reject: tuple[type[BaseException], ...]
    reject_exit_codes: tuple[int, ...]
    failures_dir: Path | Callable[[], Path]  # a folder, or what gives it when a failure is written

    @classmethod
    def from_options(cls, option: Any, failures_dir: Path | Callable[[], Path]) -> FuzzSettings | None:
        """The settings from ``option(name)`` (pytest's ``getoption``), or ``None`` when no
        consumer is given; failing streams go to ``failures_dir``."""
        specs: list[str] = option("telephony_consumer")
        bots: list[str] = option("telephony_pipecat")
        commands = [(suffix, c) for suffix in ("cmd", "loop") for c in option(f"telephony_consumer_{suffix}")]
        if not specs and not bots and not commands:
            return None
        base = options_defaults(option)
        consumers: list[tuple[Consumer, str | None]] = []
        for flag, given, kind in (("consumer", specs, None), ("pipecat", bots, Pipecat)):
            for spec in given:
                try:
                    target = load_object(spec, example="bot:make_transport" if kind else "handlers:on_event")
                    consumers.append((as_consumer(kind(target) if kind else target, spec), spec))
                except (LoadError, TypeError, ConsumerSetupError) as exc:
                    raise SettingsError(f"--telephony-{flag}: {exc}") from None
        timeout = float(option("telephony_timeout"))
        for suffix, command in commands:
            flag = f"--telephony-consumer-{suffix}"
            program = Program(command, timeout=timeout, loop=suffix == "loop")
            try:
                argv = program.argv
            except ValueError as exc:  # shlex: an unclosed quote
                raise SettingsError(f"{flag} {command!r} cannot be split into words: {exc}") from None
            if not argv:
                raise SettingsError(f"{flag} is empty")
            problem = not_runnable(argv[0])
            if problem:
                raise SettingsError(f"{flag} {command!r}: {problem}")
            consumers.append((as_consumer(program), None))
        return cls(consumers=consumers, failures_dir=failures_dir, **base)


def not_runnable(program: str) -> str | None:
    """Why ``program`` (a command's first word) cannot be run, or ``None`` when it can."""
    if os.sep in program or (os.altsep and os.altsep in program):
        if not os.path.exists(program):
            return f"{program!r} does not exist"
        if os.path.isdir(program) or not os.access(program, os.X_OK):
            return f"{program!r} is not an executable file"
        return None
    if shutil.which(program) is None:
        return f"{program!r} is not a program on PATH (give its path, or the interpreter first: \"node app.js\")"
    return None


def options_defaults(option: Any) -> dict[str, Any]:
    """The run-wide settings (examples, seed, rejections, families) from the options; also the
    defaults of the ``telephony_fuzz`` fixture."""
    try:
        raw_seed = str(option("telephony_seed"))
        seed = int.from_bytes(os.urandom(4), "big") if raw_seed == "random" else int(raw_seed)
        reject = tuple(load_exception(n) for n in str(option("telephony_reject")).split(",") if n.strip())
        codes = tuple(int(c) for c in str(option("telephony_reject_exit")).split(",") if c.strip())
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    examples = int(option("telephony_examples"))
    if examples < 1:
        raise SettingsError("--telephony-examples must be at least 1")
    return {
        "examples": examples,
        "seed": seed,
        "reject": reject,
        "reject_exit_codes": codes,
        "families": FAMILIES if option("telephony_broken") else VALID_FAMILIES,
    }


__all__ = [
    "DEFAULT_EXAMPLES",
    "DEFAULT_REJECT_EXIT_CODES",
    "DEFAULT_SEED",
    "DEFAULT_TIMEOUT",
    "FAMILIES",
    "VALID_FAMILIES",
    "FuzzSettings",
    "SettingsError",
    "not_runnable",
]
