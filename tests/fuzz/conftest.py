"""Helpers for the fuzzing tests: run the telephony-fuzz plugin in a pytester folder."""

from __future__ import annotations

import shutil
from importlib.metadata import entry_points
from pathlib import Path

import pytest

CONSUMERS = Path(__file__).parent / "consumers"


def plugin_args() -> list[str]:
    """``-p conformance.fuzz.plugin`` unless the entry point already loads it (loading a
    module twice under two names is an error in pluggy)."""
    names = {ep.name for ep in entry_points(group="pytest11")}
    return [] if "telephony_fuzz" in names else ["-p", "conformance.fuzz.plugin"]


@pytest.fixture
def fuzz_dir(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder holding the sample consumers, and nothing else (no tests, no conftest)."""
    for path in CONSUMERS.iterdir():
        if path.suffix in (".py", ".js"):
            shutil.copy(path, pytester.path / path.name)
    return pytester


@pytest.fixture
def fuzz_args() -> list[str]:
    """The arguments that load the plugin in a pytester run."""
    return plugin_args()
