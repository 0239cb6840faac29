"""The plugins load at every pytest start in a virtualenv that has the package installed
(pytest11 entry points), whether or not a capture is checked. They must not drag in the
validator libraries, hypothesis or schemathesis: those cost seconds, and are imported when
a feature that needs them is used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("jsonschema", "referencing", "jsonschema_rs", "hypothesis", "schemathesis", "rich")


def test_loading_the_plugins_imports_no_heavy_library() -> None:
    code = (
        "import sys, pytest\n"
        "import conformance.pytest_plugin, conformance.fuzz.plugin, conformance.receivers.plugin\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported at plugin load: {done.stdout.strip()}"


def test_the_checker_still_finds_its_libraries_when_it_runs() -> None:
    code = (
        "import io, sys\n"
        "from conformance import check_stream, CaptureSummary\n"
        "line = b'{\"action\":\"dialin-ready\",\"callClientId\":\"c\",\"provider\":\"daily\"}'\n"
        "found = list(check_stream(io.BytesIO(line), CaptureSummary('x')))\n"
        "print([f.rule for f in found], 'jsonschema' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['S201'] True"  # no sipEndpoint: explained by jsonschema
