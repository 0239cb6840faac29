"""The README's output samples are what the tool prints: each ```console block's command
(``$ telephony-conformance …``, run from the repository root) prints exactly the lines below it."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from _cli import cli

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
BLOCK = re.compile(r"```console\n\$ telephony-conformance (?P<args>[^\n]+)\n(?P<output>.*?)```", re.S)


def _samples() -> list[tuple[str, str]]:
    return [(m["args"], m["output"]) for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]


def test_the_readme_has_output_samples() -> None:
    assert _samples()


@pytest.mark.parametrize(("args", "output"), _samples(), ids=lambda v: v if "\n" not in v else "")
def test_a_readme_sample_is_what_the_tool_prints(args: str, output: str) -> None:
    if sys.platform == "win32":
        pytest.skip("the samples use POSIX paths")
    done = cli(*shlex.split(args), cwd=REPO)
    assert done.stdout == output, f"README.md's sample of `telephony-conformance {args}` is stale:\n{done.stdout}"
