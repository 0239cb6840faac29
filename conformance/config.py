"""The ``[tool.telephony-conformance]`` table of ``pyproject.toml``: a team's settings, read
by the CLI and the pytest plugin alike; a flag given on the command line overrides it.

The table is looked for from the current folder up to the repository's root (the first
folder holding ``.git``), in the nearest ``pyproject.toml`` that has it. Its keys are the
flags' names::

    [tool.telephony-conformance]
    captures = ["captures/"]            # checked when no capture is named
    strict = false
    partial = false
    allow-empty = false
    select = ["S2", "L301"]             # or "S2,L301"
    ignore = []
    jobs = 0
    max-findings = 20
    severity = { S205 = "error", L301 = "off" }
    fail-on = "error"                   # or "warning", "never"
    require-actions = ["dialout-answered", "dialin-error"]
    baseline = "telephony-baseline.json"
    reports = { sarif = "results.sarif", junit = "junit.xml" }   # the CLI's --report

Paths are relative to the folder of the ``pyproject.toml``. An unknown key, or a value of
the wrong type, is an error that names the key and the file. ``reports`` is the CLI's alone
(pytest writes JUnit XML with its own ``--junitxml``).
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .escape import display_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TABLE = "telephony-conformance"
CONFIG_FILE = "pyproject.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the key."""


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _listed(value: Any) -> str | None:
    """A list of strings, or one comma-separated string, as the flag's text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    return None


def _severity(value: Any) -> list[str] | None:
    if isinstance(value, dict) and all(isinstance(level, str) for level in value.values()):
        return [f"{rule}={level}" for rule, level in value.items()]
    return None


def _paths(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _reports(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict) and all(isinstance(path, str) for path in value.values()):
        return dict(value)
    return None


#: Each key: ``(the name it is read as, how its value is checked and read, what it must be)``.
KEYS: dict[str, tuple[str, Any, str]] = {
    "captures": ("captures", _paths, "a list of paths"),
    "strict": ("strict", _bool, "true or false"),
    "partial": ("partial", _bool, "true or false"),
    "allow-empty": ("allow_empty", _bool, "true or false"),
    "select": ("select", _listed, "a list of rule ids or prefixes"),
    "ignore": ("ignore", _listed, "a list of rule ids or prefixes"),
    "jobs": ("jobs", _int, "a whole number"),
    "max-findings": ("max_findings", _int, "a whole number"),
    "severity": ("severity", _severity, 'a table of rule = "error" | "warning" | "off"'),
    "fail-on": ("fail_on", _str, '"error", "warning" or "never"'),
    "require-actions": ("require_actions", _listed, "a list of actions"),
    "baseline": ("baseline", _str, "a path"),
    "reports": ("reports", _reports, 'a table of format = "path"'),
}
_PATH_KEYS = {"captures", "baseline", "reports"}


@dataclass
class Config:
    """The settings a ``pyproject.toml`` gives, by the names the flags are read as; paths
    made relative to the current folder (or absolute). Empty when there is no such table."""

    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


def find(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.telephony-conformance]`` table, from
    ``start`` (the current folder) up to the repository's root; ``None`` when there is none."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file() and _has_table(candidate):
            return candidate
        if (folder / ".git").exists():
            break
    return None


def _has_table(path: Path) -> bool:
    try:
        return f"[tool.{TABLE}" in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def load(path: Path) -> Config:
    """The table of one ``pyproject.toml``; :class:`ConfigError` names what is wrong."""
    shown = display_path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: not valid TOML: {exc}") from None
    table = document.get("tool", {}).get(TABLE)
    if table is None:
        return Config(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{shown}: [tool.{TABLE}] must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        known = KEYS.get(key)
        if known is None:
            close = difflib.get_close_matches(key.replace("_", "-"), KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(f"{shown}: [tool.{TABLE}] has an unknown key {key!r} ({hint}known: {', '.join(KEYS)})")
        name, read, expected = known
        read_value = read(value)
        if read_value is None:
            raise ConfigError(f"{shown}: [tool.{TABLE}] {key} must be {expected}")
        if key in _PATH_KEYS:
            read_value = _relative_to(path.parent, read_value)
        values[name] = read_value
    return Config(path, values)


def load_nearest(start: Path | None = None) -> Config:
    """The nearest configuration (:func:`find`), or an empty one."""
    found = find(start)
    return load(found) if found is not None else Config()


def _relative_to(folder: Path, value: Any) -> Any:
    """Paths in the file are relative to its folder: the same paths seen from here."""
    if isinstance(value, str):
        return _joined(folder, value)
    if isinstance(value, list):
        return [_joined(folder, item) for item in value]
    return {name: _joined(folder, item) for name, item in value.items()}


def _joined(folder: Path, path: str) -> str:
    joined = folder / path
    try:
        return str(joined.relative_to(Path.cwd()))
    except ValueError:
        return str(joined)


def merged(flags: dict[str, Any], config: Config) -> dict[str, Any]:
    """The shared options: each flag given (not ``None``) over the configuration's value.
    ``--severity`` flags add to the configuration's table, a rule's flag winning."""
    out = {name: config.get(name) if value is None else value for name, value in flags.items()}
    if flags.get("severity") is not None and config.get("severity"):
        out["severity"] = [*config.get("severity"), *flags["severity"]]
    return out
