"""Fixtures shared by the unit tests of the parallel check."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    """One pool of two workers for the whole module: starting workers per example would
    cost more than checking. ``spawn``: this process may run threads (pytest-xdist), and a
    fork with threads running is not safe."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor
