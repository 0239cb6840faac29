"""The wheel as pip builds it (hatch_build.py): the per-line loops compiled by Cython beside
their source, held to the same tests and the same reports as the pure-Python source.

The editable install the test suite runs on is pure Python, so this is where the compiled
modules, which ``pip install .`` gives users, are tested. Building compiles C (about 20 s),
once for the module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path) -> Any:
    """A module of the repository that is not part of the package (the build hook, the bench)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOT = tuple(sorted(_load(ROOT / "hatch_build.py").HOT_MODULES))  # as --version lists them


def _compiler() -> str | None:
    command = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shutil.which(shlex.split(command)[0])


def build_wheel(out: Path, **env: str) -> tuple[Path, str]:
    """Build this project's wheel into ``out`` as ``pip install .`` does, from the test
    environment's hatchling and Cython (no build isolation: no registry at test time);
    the wheel, and pip's verbose output."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    return wheel, done.stdout + done.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiled wheel, unpacked: a folder to put first on PYTHONPATH."""
    if _compiler() is None:
        pytest.skip("no C compiler on this machine: its wheel is pure Python (see test_pure_wheel)")
    wheel, output = build_wheel(tmp_path_factory.mktemp("wheel"))
    assert not wheel.name.endswith("-none-any.whl"), f"a C compiler is here, yet the wheel is pure:\n{output[-3000:]}"
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def _run(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Python with the unpacked wheel first on its path (before the editable install), run in
    ``cwd``, a folder that holds no ``conformance`` of its own."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(cwd)])}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=900, cwd=cwd, env=env)


def test_the_wheel_runs_the_hot_loops_compiled(site: Path, tmp_path: Path) -> None:
    package = site / "conformance"
    for name in HOT:
        folder, _, module = (package / name.replace(".", "/")).as_posix().rpartition("/")
        assert Path(folder, f"{module}.py").is_file(), "the source ships beside its compiled module"
        built = [path.name for path in Path(folder).glob(f"{module}.*") if path.suffix != ".py"]
        assert built, f"{name} is not compiled"
    # The schema files ship too, and the compiled modules are the ones imported.
    assert (package / "schemas" / "telephony-event.schema.json").is_file()
    shown = _run(
        site, "-c", "import sys; from conformance.cli import main; sys.exit(main(['--version']))", cwd=tmp_path
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.rstrip().endswith(f"; compiled: {', '.join(HOT)})"), shown.stdout


def test_the_compiled_loops_pass_the_core_tests(site: Path, tmp_path: Path) -> None:
    # The unit tests (the property tests of both loops among them: parallel against one
    # process, fast path against exact path, lost records, windows) on the compiled modules.
    # A plugin of this test's makes the run fail unless those are the modules it tests.
    modules = ", ".join(f"conformance.{name}" for name in HOT)
    (tmp_path / "compiled_only.py").write_text(
        f"import {modules}\n"
        "def pytest_sessionstart(session):\n"
        f"    for module in ({modules},):\n"
        "        assert not module.__file__.endswith('.py'), module.__file__\n"
    )
    done = _run(
        site,
        "-m",
        "pytest",
        "-q",
        "-p",
        "compiled_only",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        str(ROOT / "tests" / "unit"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    assert " passed" in done.stdout.splitlines()[-1] and "failed" not in done.stdout.splitlines()[-1]


def _generate(path: Path, events: int) -> None:
    _load(ROOT / "bench" / "bench_check.py").generate(path, events, defect_rate=0.02, seed=7)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_compiled_and_pure_write_the_same_report(site: Path, tmp_path: Path, jobs: str) -> None:
    # The benchmark's capture (interleaved sessions, two call clients, 2% broken lines),
    # large enough for two workers to take several ranges each.
    capture = tmp_path / "capture.ndjson"
    _generate(capture, 120_000)
    check = ["check", str(capture), "--format", "json", "--jobs", jobs, "--no-progress"]
    compiled = _run(site, "-c", "import sys; from conformance.cli import main; sys.exit(main())", *check, cwd=tmp_path)
    pure = subprocess.run(
        [sys.executable, "-m", "conformance.cli", *check], capture_output=True, text=True, timeout=900, cwd=ROOT
    )
    assert compiled.returncode == pure.returncode == 1, compiled.stderr + pure.stderr
    report = json.loads(compiled.stdout)
    assert report["captures"][0]["lines"] == 120_000
    assert len(report["captures"][0]["findings"]) > 1000
    assert report == json.loads(pure.stdout)


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"TELEPHONY_CONFORMANCE_PURE": "1"}, "a pure-Python wheel"),
        ({"CC": "false"}, "the hot loops could not be compiled"),
    ],
    ids=["asked-for", "no-compiler"],
)
def test_pure_wheel(tmp_path: Path, env: dict[str, str], said: str) -> None:
    # Compiling is an optimisation, never a condition: without it, the wheel is pure Python,
    # for any platform, and the build says why.
    wheel, output = build_wheel(tmp_path, **env)
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    assert said in output
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert all(f"conformance/{name.replace('.', '/')}.py" in names for name in HOT)
    assert not [name for name in names if name.endswith((".so", ".pyd"))]
