"""Installing small npm packages for the Node-side checks, once per machine, without hanging.

Packages go into a cache directory under the system temp dir, keyed by a hash of the
``package.json`` that pins them, so a session (and the next one) installs each set once;
xdist workers racing to install build in private directories and the first rename wins.
Every helper either returns or raises :class:`NodeUnavailable` with a reason that a test
turns into a skip: no node, no npm, or no reachable npm registry.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: Seconds allowed for the registry probe; the registry either answers fast or not at all.
PROBE_TIMEOUT = 20
#: Seconds allowed for one ``npm install`` / ``npm pack``.
INSTALL_TIMEOUT = 180


class NodeUnavailable(Exception):
    """Node.js, npm or the npm registry is not available; the message says which."""


def require_node() -> str:
    node = shutil.which("node")
    if node is None:
        raise NodeUnavailable("Node.js is not installed (no `node` on PATH)")
    return node


def require_npm() -> str:
    require_node()
    npm = shutil.which("npm")
    if npm is None:
        raise NodeUnavailable("npm is not installed (no `npm` on PATH)")
    return npm


def registry_version(package: str) -> str:
    """The registry's current version of ``package`` (``npm view``); proves the registry is reachable."""
    npm = require_npm()
    try:
        done = subprocess.run(
            [npm, "view", package, "version"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise NodeUnavailable(
            f"the npm registry did not answer `npm view {package} version` in {PROBE_TIMEOUT}s"
        ) from exc
    version = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    if not version:
        raise NodeUnavailable(
            f"the npm registry is unreachable (`npm view {package} version` failed: {done.stderr.strip()[-300:]})"
        )
    return version[0].strip("'\" ")


def _cache_root() -> Path:
    return Path(tempfile.gettempdir()) / "telephony-conformance-npm"


def install(package_json: Path) -> Path:
    """A directory whose ``node_modules`` holds what ``package_json`` pins; installs on first use."""
    npm = require_npm()
    digest = hashlib.sha256(package_json.read_bytes()).hexdigest()[:16]
    target = _cache_root() / f"{package_json.parent.name}-{digest}"
    if (target / "node_modules" / ".package-lock.json").is_file():
        return target
    # Probe first: a dead registry makes `npm install` retry for minutes.
    registry_version("npm")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="install-", dir=target.parent))
    try:
        shutil.copy(package_json, work / "package.json")
        _run_npm(
            [npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--prefix", str(work)],
            f"`npm install` of {package_json}",
        )
        with contextlib.suppress(OSError):  # another worker won the race; its install is equivalent
            os.rename(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _run_npm(cmd: list[str], what: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run an npm command within the install time limit; NodeUnavailable (a skip) if it fails."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise NodeUnavailable(f"{what} took over {INSTALL_TIMEOUT}s") from exc
    if done.returncode != 0:
        raise NodeUnavailable(f"{what} failed: {done.stderr.strip()[-500:]}")
    return done


def pack(spec: str, into: Path) -> Path:
    """``npm pack <spec>`` into ``into`` and extract it; the extracted ``package/`` directory."""
    npm = require_npm()
    into.mkdir(parents=True, exist_ok=True)
    done = _run_npm([npm, "pack", spec, "--pack-destination", str(into)], f"`npm pack {spec}`", cwd=into)
    tarball = into / done.stdout.strip().splitlines()[-1]
    shutil.unpack_archive(tarball, into)
    return into / "package"


def node_env(prefix: Path) -> dict[str, str]:
    """The environment for running a CommonJS script against ``prefix/node_modules``."""
    return {**os.environ, "NODE_PATH": str(prefix / "node_modules")}
