"""ajv (draft 2020-12, strict mode) gives every vector the same verdict as the Python validators.

ajv is installed from npm by the ``ajv_prefix`` fixture (skipped with the reason when Node,
npm or the registry is unavailable) and runs all vectors in one process (``ajv/run.cjs``).
"""

from __future__ import annotations

from typing import Any

import _npm
import pytest
from _vectors import VECTORS, Vector, python_verdict, vector_position


def test_ajv_ran_every_vector(ajv_verdicts: dict[str, Any]) -> None:
    counted = sum(len(group) for groups in ajv_verdicts["schemas"].values() for group in groups)
    assert counted == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v.id for v in VECTORS])
def test_ajv_agrees_with_python(vector: Vector, ajv_verdicts: dict[str, Any]) -> None:
    group, test = vector_position(vector)
    ajv = ajv_verdicts["schemas"][vector.file][group][test]
    python = python_verdict(vector)
    assert ajv == python == vector.valid, f"{vector.id}: ajv={ajv} python={python} vector={vector.valid}"


def test_missing_node_is_a_clear_skip_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_npm.shutil, "which", lambda name: None)
    with pytest.raises(_npm.NodeUnavailable, match=r"Node\.js is not installed"):
        _npm.require_npm()
