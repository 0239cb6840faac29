"""The garbage collector's settings while captures are checked.

A check allocates millions of short-lived containers and almost no reference cycles, so it
asks the collector to run less often and to leave the long-lived objects alone. The CLI and
the worker processes are this package's own and keep that setting; a pytest process gets
it only for the time of a check.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from ..schemas import event_schemas

#: How often the garbage collector runs while a capture is checked (see :func:`settle`).
_CHECKING_THRESHOLDS = (100_000, 50, 1000)


def settle() -> None:
    """Prepare a process that will check captures: compile the schemas, move everything alive
    so far (modules, compiled schemas) out of the garbage collector's sight, and collect less
    often.

    A check allocates millions of short-lived containers, almost none in reference cycles;
    with the default thresholds the collector would walk the long-lived objects again and
    again. Garbage cycles still get collected, every 100,000 allocations. Only for processes
    this package owns, the CLI and the workers, for good; a pytest process gets the same for
    the time of a check (:func:`collecting_less`).
    """
    event_schemas()
    gc.freeze()
    gc.set_threshold(*_CHECKING_THRESHOLDS)


@contextlib.contextmanager
def collecting_less() -> Iterator[None]:
    """:func:`settle`'s garbage collection for the time of a check, in a process this package
    does not own (pytest, whose own objects the collector would otherwise walk again and
    again); then the collector as it was."""
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count() > 0  # by someone else, who will decide when to thaw them
    if not frozen:
        gc.freeze()
    gc.set_threshold(*_CHECKING_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if not frozen:
            gc.unfreeze()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection for a while: while a report builds its document at the end of a
    run, tens of thousands of new containers with no cycles among them, which a collection
    (and with them every container the check keeps) would walk only to find nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
