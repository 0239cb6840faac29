"""Loading a user's object from ``MODULE:OBJECT``, the way ``uvicorn module:app`` does.

The fuzzer loads consumers and exception classes this way, and the receiver checks load
apps; every failure is one :class:`LoadError` whose message names the spec and the cause.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any


class LoadError(ValueError):
    """``MODULE:OBJECT`` is malformed, or names nothing that can be imported."""


def load_object(spec: str, example: str = "handlers:on_event", shown: str | None = None) -> Any:
    """The object named by ``MODULE:OBJECT`` (``OBJECT`` may be dotted), importing MODULE with
    the current folder first on ``sys.path``. ``example`` shows the form in the error, which
    names the object as the user wrote it (``shown``, by default ``spec``)."""
    shown = repr(shown if shown is not None else spec)
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise LoadError(f"{shown} is not MODULE:OBJECT (for example {example})")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name not in (module_name, module_name.split(".")[0]):  # the module is there; its import failed
            failed = f"importing {module_name!r} failed (ModuleNotFoundError: {exc})"
            raise LoadError(f"cannot load {shown}: {failed}") from exc
        raise LoadError(
            f"cannot load {shown}: there is no module {module_name!r}, neither installed in this Python "
            f"({sys.executable}) nor in the current folder ({cwd})"
        ) from exc
    except Exception as exc:  # the user's module may raise anything while it is imported
        raise LoadError(
            f"cannot load {shown}: cannot import {module_name!r} from {cwd} ({type(exc).__name__}: {exc})"
        ) from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise LoadError(f"cannot load {shown}: module {module_name!r} has no attribute {attr!r}") from None
    return obj


def load_exception(name: str) -> type[BaseException]:
    """An exception class from ``ValueError``, ``package.module.Error`` or ``module:Error``."""
    import builtins

    name = name.strip()
    found: Any = getattr(builtins, name, None) if name.isidentifier() else None
    if found is None:
        module, _, attr = name.replace(":", ".").rpartition(".")
        if not module:
            raise LoadError(f"{name!r} is not a built-in exception (use ValueError, or package.module.Error)")
        found = load_object(f"{module}:{attr}", example="pydantic:ValidationError", shown=name)
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        raise LoadError(f"{name!r} is not an exception class (use ValueError, or package.module.Error)")
    return found
