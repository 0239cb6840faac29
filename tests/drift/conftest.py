"""Session fixtures for the drift check: TypeScript and the published daily-js typings, once."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TS_DIR = Path(__file__).parent / "ts"
DAILY_JS = "@daily-co/daily-js"


def _load_npm_helpers() -> ModuleType:
    # One implementation of "install from npm or explain why not", shared with tests/vectors
    # (a sibling folder, not a package, so it is loaded by path).
    path = Path(__file__).parent.parent / "vectors" / "_npm.py"
    spec = importlib.util.spec_from_file_location("telephony_conformance_tests_npm", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


npm = _load_npm_helpers()


@dataclass(frozen=True)
class DailyTypings:
    version: str
    index_d_ts: Path


@pytest.fixture(scope="session")
def typescript_prefix() -> Path:
    """A directory with typescript in ``node_modules``; skips when Node, npm or the registry is unavailable."""
    try:
        prefix: Path = npm.install(TS_DIR / "package.json")
    except npm.NodeUnavailable as exc:
        pytest.skip(f"drift check skipped: {exc}")
    return prefix


@pytest.fixture(scope="session")
def daily_typings(tmp_path_factory: pytest.TempPathFactory) -> DailyTypings:
    """``package/index.d.ts`` of the latest published daily-js (``npm pack``)."""
    try:
        # Ask for the version first and pack exactly that one: a bare `npm pack <name>` may be
        # answered from a stale local packument.
        version = npm.registry_version(DAILY_JS)
        package = npm.pack(f"{DAILY_JS}@{version}", tmp_path_factory.mktemp("daily-js"))
    except npm.NodeUnavailable as exc:
        pytest.skip(f"drift check skipped: {exc}")
    index = package / "index.d.ts"
    assert index.is_file(), f"{DAILY_JS}@{version} has no index.d.ts"
    return DailyTypings(version=version, index_d_ts=index)


@pytest.fixture(scope="session")
def sdk_shapes(typescript_prefix: Path, daily_typings: DailyTypings) -> dict[str, Any]:
    """The ten event types of the SDK, as ``ts/shapes.cjs`` reads them with the type checker."""
    done = subprocess.run(
        [npm.require_node(), str(TS_DIR / "shapes.cjs"), str(daily_typings.index_d_ts)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=npm.node_env(typescript_prefix),
    )
    assert done.returncode == 0, done.stderr
    shapes: dict[str, Any] = json.loads(done.stdout)
    return shapes
