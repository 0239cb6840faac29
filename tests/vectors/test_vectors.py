"""The language-neutral vectors in ``schemas/vectors/`` under both Python validators.

Each vector's ``valid`` is the verdict every implementation must give; here the fast
(jsonschema-rs) and the exact (jsonschema) validators of ``conformance.schemas`` must both
give it, so they agree with each other and with the vectors. The structural tests keep the
vector files complete: one per schema, every documented example, every required field
missing alone, every field with a wrong type alone, and each invalid vector breaking
exactly one constraint.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from typing import Any

import jsonschema_rs
import pytest
from _vectors import VECTOR_DIR, VECTORS, Vector, vector_files

from conformance.schemas import (
    ACTIONS,
    UNION_SCHEMA,
    event_schemas,
    exact_validator,
    load_schemas,
    union_validator,
)


@functools.cache
def _union_fast() -> Any:
    """A jsonschema-rs validator for the union, built the way ``event_schemas()`` builds its own."""
    schemas = load_schemas()
    registry = jsonschema_rs.Registry([(s["$id"], s) for s in schemas.values()])
    return jsonschema_rs.validator_for(schemas[UNION_SCHEMA], registry=registry, offline=True)


def _verdicts(vector: Vector) -> dict[str, bool]:
    """Every Python validator's verdict on one vector, by validator name."""
    if vector.action is None:
        fast, exact = _union_fast(), union_validator()
    else:
        fast, exact = event_schemas()[vector.action].fast, event_schemas()[vector.action].exact
    # The group's own schema ({"$ref": <$id>}), as another language would load it.
    as_written = exact_validator({"$ref": load_schemas()[vector.schema_file]["$id"]})
    return {
        "jsonschema-rs": bool(fast.is_valid(vector.data)),
        "jsonschema": exact.is_valid(vector.data),
        "jsonschema via the group's $ref": as_written.is_valid(vector.data),
    }


@pytest.mark.parametrize("vector", VECTORS, ids=[v.id for v in VECTORS])
def test_every_python_validator_gives_the_vector_verdict(vector: Vector) -> None:
    verdicts = _verdicts(vector)
    wrong = {name: got for name, got in verdicts.items() if got != vector.valid}
    assert not wrong, f"{vector.id}: expected valid={vector.valid}, got {wrong} for data {vector.data!r}"


def test_there_are_many_vectors() -> None:
    # A guard against an empty glob silently parametrizing nothing.
    assert len(VECTORS) > 400
    assert Counter(v.valid for v in VECTORS)[True] > 100


def test_one_vector_file_per_event_schema_and_one_for_the_union() -> None:
    expected = {f"{action}.json" for action in ACTIONS} | {"telephony-event.json"}
    assert {p.name for p in vector_files()} == expected


@pytest.mark.parametrize("path", vector_files(), ids=lambda p: p.name)
def test_vector_file_layout(path: Any) -> None:
    """JSON-Schema-Test-Suite layout, each group naming the schema of its file by ``$id`` only."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(doc, list) and doc
    own_schema = path.name.removesuffix(".json") + ".schema.json"
    for group in doc:
        assert set(group) == {"description", "schema", "tests"}
        assert group["schema"] == {"$ref": load_schemas()[own_schema]["$id"]}
        assert group["tests"]
        for test in group["tests"]:
            assert set(test) == {"description", "data", "valid"}
            assert isinstance(test["valid"], bool)
    descriptions = [t["description"] for g in doc for t in g["tests"]]
    duplicates = [d for d, n in Counter(descriptions).items() if n > 1]
    assert not duplicates, f"{path.name}: descriptions must be unique (they are test ids): {duplicates}"


def _by_file(name: str) -> list[Vector]:
    return [v for v in VECTORS if v.file == name]


@pytest.mark.parametrize("action", ACTIONS)
def test_every_event_has_the_required_valid_cases(action: str) -> None:
    vectors = _by_file(f"{action}.json")
    valid = [v for v in vectors if v.valid]
    schema = load_schemas()[f"{action}.schema.json"]
    required, props = set(schema["required"]), set(schema["properties"])
    datas = [v.data for v in valid]
    assert any(set(d) == required for d in datas), "no 'required fields only' vector"
    assert any(set(d) == props for d in datas), "no 'every optional field' vector"
    assert any(set(d) - props for d in datas), "no vector with unknown extra fields"
    for example in schema.get("examples", []):
        assert example in datas, f"the schema's own example is not a valid vector: {example}"
    if "destination" in props:
        forms = {re.match(r"[+a-zA-Z]", d["destination"]).group(0).lower() for d in datas if "destination" in d}  # type: ignore[union-attr]
        assert {"+", "s"} <= forms, "destination needs both an E.164 and a SIP URI vector"


@pytest.mark.parametrize("action", ACTIONS)
def test_every_constraint_is_broken_alone(action: str) -> None:
    invalid = {v.description for v in _by_file(f"{action}.json") if not v.valid}
    schema = load_schemas()[f"{action}.schema.json"]
    missing = [f for f in schema["required"] if f"missing required field {f}" not in invalid]
    untyped = [f for f in schema["properties"] if not any(d.startswith(f"wrong type: {f} is ") for d in invalid)]
    assert not missing and not untyped, f"no vector for: missing {missing}, wrong type {untyped}"


@pytest.mark.parametrize("vector", [v for v in VECTORS if not v.valid], ids=lambda v: v.id)
def test_each_invalid_vector_breaks_one_constraint(vector: Vector) -> None:
    """An invalid vector shows exactly one kind of error at one place, so each verdict tests one rule."""
    validator = union_validator() if vector.action is None else event_schemas()[vector.action].exact
    places = {(tuple(e.absolute_path), e.validator) for e in validator.iter_errors(vector.data)}
    assert len(places) == 1, f"{vector.id} breaks {sorted(places, key=str)}"


def test_trailing_newline_is_covered() -> None:
    # Python's `$` matches before a final newline; the vectors must pin the ECMA-262 meaning.
    newline = [v for v in VECTORS if isinstance(v.data, dict) and any(
        isinstance(x, str) and x.endswith("\n") for x in v.data.values())]
    assert any(v.data.get("destination") == "+12098888888\n" for v in newline)
    assert all(not v.valid for v in newline)


def test_vector_dir_is_beside_the_schemas() -> None:
    assert (VECTOR_DIR.parent / UNION_SCHEMA).is_file()
