"""Build hook: the wheel carries the checker's per-line loops compiled by Cython, beside their source.

A check spends nearly all its time in code that runs once per line of a capture: the line
stage (:func:`conformance.check.lines.check_lines`), the fast path's rule
(:meth:`conformance.check.fastpath.FastPath.acceptor`), the records it builds
(:mod:`conformance.check.records`) and the session check
(:meth:`conformance.check.sessions.SessionTracker.check`). Compiled as they are, with no
change to the Python, they lose the interpreter's cost of each bytecode, which is what is
left of a line's time once msgspec and orjson have done their work (``python
bench/bench_check.py`` gives the figures).

* The ``.py`` files stay the one source: Cython compiles them unchanged, as plain Python
  (``annotation_typing=False``: type hints are not turned into run-time type checks), and
  the wheel ships them beside the extension modules, which Python imports first.
* Compiling is an optimisation, never a condition: where it cannot be done (no C compiler,
  no Python headers), the wheel is pure Python and checks the same, more slowly, with a
  warning in the build output. ``TELEPHONY_CONFORMANCE_PURE=1`` asks for a pure wheel.
* An editable install (``pip install -e``) stays pure Python, so that an edit to a ``.py``
  file takes effect at once instead of hiding behind a stale compiled module.

``tests/wheel/test_compiled.py`` builds a wheel with this hook and runs the property tests
of both loops against its compiled modules.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: The modules compiled, as paths inside the package: the per-line code, and nothing else
#: (the rest of a check's time is spent in C already, or once per range or capture).
HOT_MODULES = ("check.fastpath", "check.lines", "check.records", "check.sessions")

#: Set to anything but "" or "0" for a pure-Python wheel.
PURE_ENV = "TELEPHONY_CONFORMANCE_PURE"


def compile_hot_modules(root: Path, work: Path) -> list[Path]:
    """Compile :data:`HOT_MODULES` of ``root/conformance`` in ``work``; the extension modules
    built, by their path in the wheel (``conformance/check/lines.cpython-311-x86_64-linux-gnu.so``,
    …). Raises whatever Cython or the C compiler raises."""
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    extensions = cythonize(
        [
            Extension(f"conformance.{name}", [str(root / "conformance" / f"{name.replace('.', '/')}.py")])
            for name in HOT_MODULES
        ],
        build_dir=str(work / "c"),
        compiler_directives={"language_level": 3, "annotation_typing": False},
        quiet=True,
    )
    command = build_ext(Distribution({"name": "telephony-conformance", "ext_modules": extensions}))
    command.build_lib = str(work / "lib")
    command.build_temp = str(work / "temp")
    command.ensure_finalized()
    command.run()
    return [Path(output).relative_to(work / "lib") for output in command.get_outputs()]


class CompiledHotLoops(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the compiled hot loops to a (non-editable) wheel, when they can be built."""

    _work: Path | None = None  # where they are built, until the wheel is written

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get(PURE_ENV, "") not in ("", "0"):
            self.app.display_info(f"{PURE_ENV} is set: a pure-Python wheel")
            return
        if platform.python_implementation() != "CPython":
            # PyPy's JIT runs the loops faster than a C extension through its CPython emulation.
            self.app.display_info(f"{platform.python_implementation()}: a pure-Python wheel")
            return
        self._work = Path(tempfile.mkdtemp(prefix="telephony-conformance-build-"))
        try:
            built = compile_hot_modules(Path(self.root), self._work)
        except Exception as exc:  # any failure to compile means "pure Python"
            self.app.display_warning(
                f"telephony-conformance: the hot loops could not be compiled ({type(exc).__name__}: {exc}); "
                "this wheel is pure Python: it checks the same, more slowly"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True  # cp311-cp311-linux_x86_64, say: the modules are for this Python
        for path in built:
            build_data["force_include"][str(self._work / "lib" / path)] = str(path)
        self.app.display_info(f"compiled: {', '.join(path.name for path in built)}")

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
