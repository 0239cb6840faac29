"""The fuzzing strategies under their first name: see :mod:`conformance.fuzz.strategies`."""

from __future__ import annotations

from .fuzz.strategies import *  # noqa: F403
from .fuzz.strategies import __all__ as __all__
