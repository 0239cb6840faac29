"""Capture paths as CI systems want them: relative to the repository's root.

GitHub code scanning, GitHub annotations and GitLab's Code Quality widget place a result on
a file of the repository by its path from the repository's root. The root is
``GITHUB_WORKSPACE`` (GitHub Actions) or ``CI_PROJECT_DIR`` (GitLab CI) when set, else the
nearest folder holding ``.git`` from the current one up, else the current folder. A capture
outside the root (one checked from elsewhere) keeps its absolute path.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from ..escape import display_path

#: The environment variables that name a CI checkout's root, first found wins.
ROOT_VARIABLES = ("GITHUB_WORKSPACE", "CI_PROJECT_DIR")


def repository_root() -> Path:
    """The root that report paths are relative to (see the module docstring)."""
    for name in ROOT_VARIABLES:
        value = os.environ.get(name)
        if value:
            return Path(value).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def _from_root(path: str, root: Path | None) -> tuple[Path, bool]:
    """``(path from the root, True)``, or ``(absolute path, False)`` outside the root."""
    absolute = Path(os.path.abspath(path))
    base = root if root is not None else repository_root()
    try:
        return absolute.relative_to(base), True
    except ValueError:
        return absolute, False


def relative_path(path: str, root: Path | None = None) -> str:
    """``path`` from the repository's root, with ``/`` separators, printable
    (:func:`~conformance.escape.display_path`); an absolute path when it lies outside the root.
    Standard input (``-``) stays ``-``."""
    if path == "-":
        return "-"
    return display_path(_from_root(path, root)[0].as_posix())


def relative_uri(path: str, root: Path | None = None) -> tuple[str, bool]:
    """``(uri, inside)``: a URI reference for ``path``, relative to the root when it lies
    inside it (``inside``), else an absolute ``file:`` URI; the bytes of the name are
    percent-encoded, so a name that is not UTF-8 survives."""
    if path == "-":
        return "stdin", False
    found, inside = _from_root(path, root)
    if inside:
        return urllib.parse.quote(os.fsencode(found.as_posix())), True
    # file:///C:/x on Windows as file:///tmp/x elsewhere: one slash before the path, whatever it begins with.
    return "file:///" + urllib.parse.quote(os.fsencode(found.as_posix()).lstrip(b"/")), False
