"""Reading ``schemas/vectors/*.json`` (JSON-Schema-Test-Suite layout) for the vector tests.

A plain module rather than fixtures because the cases are needed at collection time, to
parametrize one test per vector.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs

from conformance.schemas import (
    UNION_SCHEMA,
    event_schemas,
    exact_validator,
    load_schemas,
    schema_dir,
    union_validator,
    webhook_schemas,
    webhook_union_validator,
)
from conformance.surfaces import WEBHOOK_UNION_SCHEMA

VECTOR_DIR = schema_dir() / "vectors"


@dataclass(frozen=True)
class Vector:
    """One test of one group of one vector file."""

    file: str  # e.g. "dialin-ready.json"
    group: str  # the group's description
    group_index: int  # position of the group in the file
    test_index: int  # position of the test in the group
    description: str
    schema_file: str  # the schema file the group's $ref names, e.g. "dialin-ready.schema.json"
    data: Any
    valid: bool

    @property
    def id(self) -> str:
        return f"{self.file}::{self.description}"

    @property
    def is_webhook(self) -> bool:
        """A vector of a webhook schema (``webhook-*.schema.json``) rather than a client event's."""
        return self.schema_file.startswith("webhook-")

    @property
    def action(self) -> str | None:
        """The telephony action of a client event schema (``dialin-ready``), the type of a webhook
        schema (``dialin.ready``); None for either union schema."""
        if self.schema_file in (UNION_SCHEMA, WEBHOOK_UNION_SCHEMA):
            return None
        stem = self.schema_file.removesuffix(".schema.json")
        return stem.removeprefix("webhook-").replace("-", ".", 1) if self.is_webhook else stem


def vector_files() -> list[Path]:
    return sorted(VECTOR_DIR.glob("*.json"))


def schema_file_for_id(schema_id: str) -> str:
    """The schema file name whose ``$id`` is ``schema_id``; KeyError when no schema has it."""
    by_id = {s["$id"]: name for name, s in load_schemas().items()}
    return by_id[schema_id]


def load_vectors() -> list[Vector]:
    out: list[Vector] = []
    for path in vector_files():
        for group_index, group in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            schema_file = schema_file_for_id(group["schema"]["$ref"])
            for test_index, test in enumerate(group["tests"]):
                out.append(
                    Vector(
                        file=path.name,
                        group=group["description"],
                        group_index=group_index,
                        test_index=test_index,
                        description=test["description"],
                        schema_file=schema_file,
                        data=test["data"],
                        valid=test["valid"],
                    )
                )
    return out


VECTORS = load_vectors()


def vector_position(vector: Vector) -> tuple[int, int]:
    """(group, test) indexes of a vector in its file, as the Node runner reports them."""
    return vector.group_index, vector.test_index


@functools.cache
def _union_fast(schema_file: str) -> Any:
    """A jsonschema-rs validator for a whole schema file, with every schema in its registry."""
    schemas = load_schemas()
    registry = jsonschema_rs.Registry([(s["$id"], s) for s in schemas.values()])
    return jsonschema_rs.validator_for(schemas[schema_file], registry=registry, offline=True)


def validators_for(schema_file: str) -> tuple[Any, Any]:
    """(fast jsonschema-rs, exact jsonschema) validators the checker uses for one schema file;
    for a file the checker does not build validators of by itself (a daily-python profile,
    the daily-python record, the pinless dial-in body), both built from the file alone."""
    if schema_file == UNION_SCHEMA:
        return _union_fast(schema_file), union_validator()
    if schema_file == WEBHOOK_UNION_SCHEMA:
        return _union_fast(schema_file), webhook_union_validator()
    stem = schema_file.removesuffix(".schema.json")
    if stem.startswith("webhook-"):
        event = webhook_schemas()[stem.removeprefix("webhook-").replace("-", ".", 1)]
    elif stem in event_schemas():
        event = event_schemas()[stem]
    else:
        return _union_fast(schema_file), exact_validator(load_schemas()[schema_file])
    return event.fast, event.exact


def python_verdict(vector: Vector) -> bool:
    """The checker's own verdict (the exact validator; test_vectors proves the fast one agrees)."""
    return bool(validators_for(vector.schema_file)[1].is_valid(vector.data))
