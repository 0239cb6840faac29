"""The single-file bundle (``conformance.bundle``) gives the verdicts of the separate files.

It must be self-contained: every ``$ref`` a local JSON pointer that resolves, no embedded
``$id``; Python validators get no registry of the schema files (at most a registry holding
only the bundle, to address one event inside it), and ajv gets only the bundle.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from _vectors import VECTORS, Vector, vector_position
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from conformance.bundle import BUNDLE_NAME, bundle

# The checker's own pattern translation (ECMA-262 `$` is end of input, Python's is not);
# the bundle must be judged by the same regex semantics as the separate files.
from conformance.schemas import ACTIONS, UNION_SCHEMA, _python_dialect, load_schemas, schema_version


def _refs(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield where, node["$ref"]
        for key, value in node.items():
            yield from _refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, f"{where}/{i}")


def _ids(node: Any, where: str = "#") -> Iterator[str]:
    if isinstance(node, dict):
        if "$id" in node:
            yield where
        for key, value in node.items():
            yield from _ids(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _ids(value, f"{where}/{i}")


def _resolve_pointer(doc: Any, pointer: str) -> Any:
    """The value at a JSON pointer (RFC 6901); KeyError or IndexError when it leads nowhere."""
    node = doc
    for token in pointer.split("/")[1:] if pointer else []:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _refuse(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)


@functools.cache
def _bundle() -> dict[str, Any]:
    return bundle()


def test_bundle_is_valid_2020_12_and_deterministic() -> None:
    Draft202012Validator.check_schema(_bundle())
    assert json.dumps(bundle()) == json.dumps(_bundle())
    assert _bundle()["$id"].endswith(f"/{schema_version()}/{BUNDLE_NAME}")


def test_every_ref_stays_inside_the_bundle_and_resolves() -> None:
    # The check can fail: the union file itself refers to the other files.
    assert any(not ref.startswith("#") for _, ref in _refs(load_schemas()[UNION_SCHEMA]))
    refs = list(_refs(_bundle()))
    assert len(refs) > 50  # every event property points into the shared definitions
    outside = [(where, ref) for where, ref in refs if not ref.startswith("#")]
    assert not outside, f"$refs leaving the document: {outside}"
    for where, ref in refs:
        try:
            _resolve_pointer(_bundle(), ref[1:])
        except (KeyError, IndexError, ValueError):
            pytest.fail(f"$ref {ref!r} at {where} leads nowhere in the bundle")
    assert list(_ids(_bundle())) == ["#"], "embedded $id would change how refs resolve"
    assert set(ACTIONS) | {"defs", "daily-python-record", "webhook-event", "pinless-dialin"} <= set(_bundle()["$defs"])


@functools.cache
def _python_validators(schema_file: str) -> tuple[Draft202012Validator, Any]:
    """(jsonschema, jsonschema-rs) validators for the bundle or one schema in it, nothing else loaded."""
    doc = _bundle()
    if schema_file == UNION_SCHEMA:
        return Draft202012Validator(_python_dialect(doc)), jsonschema_rs.validator_for(doc, offline=True)
    ref = {"$ref": f"{doc['$id']}#/$defs/{schema_file.removesuffix('.schema.json')}"}
    registry: Registry[Any] = Registry(retrieve=_refuse).with_resource(  # type: ignore[call-arg]
        doc["$id"], Resource.from_contents(_python_dialect(doc))
    )
    rs_registry = jsonschema_rs.Registry([(doc["$id"], doc)])
    return (
        Draft202012Validator(ref, registry=registry),
        jsonschema_rs.validator_for(ref, registry=rs_registry, offline=True),
    )


#: The bundle holds every schema of events: every vector is checked against it.
BUNDLED = VECTORS


def test_the_bundle_runs_every_vector_file(ajv_verdicts: dict[str, Any]) -> None:
    assert BUNDLED and {v.file for v in BUNDLED} == set(ajv_verdicts["bundle"])


@pytest.mark.parametrize("vector", BUNDLED, ids=[v.id for v in BUNDLED])
def test_bundle_gives_the_vector_verdict_in_python(vector: Vector) -> None:
    exact, fast = _python_validators(vector.schema_file)
    verdicts = {"jsonschema": exact.is_valid(vector.data), "jsonschema-rs": bool(fast.is_valid(vector.data))}
    assert verdicts == dict.fromkeys(verdicts, vector.valid), f"{vector.id}: {verdicts}"


@pytest.mark.parametrize("vector", BUNDLED, ids=[v.id for v in BUNDLED])
def test_bundle_gives_the_vector_verdict_in_ajv(vector: Vector, ajv_verdicts: dict[str, Any]) -> None:
    group, test = vector_position(vector)
    assert ajv_verdicts["bundle"][vector.file][group][test] == vector.valid, vector.id
