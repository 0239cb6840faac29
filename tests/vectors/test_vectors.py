"""The language-neutral vectors in ``schemas/vectors/`` under both Python validators.

Each vector's ``valid`` is the verdict every implementation must give; here the fast
(jsonschema-rs) and the exact (jsonschema) validators of ``conformance.schemas`` must both
give it, so they agree with each other and with the vectors. The structural tests keep the
vector files complete: one per schema, every documented example, every required field
missing alone, every field with a wrong type alone, and each invalid vector breaking
exactly one constraint.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from _vectors import VECTOR_DIR, VECTORS, Vector, validators_for, vector_files

from conformance.schemas import ACTIONS, UNION_SCHEMA, exact_validator, load_schemas
from conformance.surfaces import (
    DAILY_PYTHON_RECORD_SCHEMA,
    PINLESS_DIALIN_SCHEMA,
    WEBHOOK_TYPES,
    WEBHOOK_UNION_SCHEMA,
    daily_python_schema_file,
    webhook_schema_file,
)

#: Vector file stems of the object schemas of events: the ten client events, the ten webhooks,
#: the nine daily-python profiles whose data is an object, and the pinless dial-in call.
EVENT_FILES = (
    *ACTIONS,
    *(webhook_schema_file(t).removesuffix(".schema.json") for t in WEBHOOK_TYPES),
    *(daily_python_schema_file(a).removesuffix(".schema.json") for a in ACTIONS if a != "dialin-ready"),
    PINLESS_DIALIN_SCHEMA.removesuffix(".schema.json"),
)
#: Vector files of the other schemas: the unions, daily-python's dialin-ready (a string), the record.
OTHER_FILES = (
    UNION_SCHEMA,
    WEBHOOK_UNION_SCHEMA,
    daily_python_schema_file("dialin-ready"),
    DAILY_PYTHON_RECORD_SCHEMA,
)


def _verdicts(vector: Vector) -> dict[str, bool]:
    """Every Python validator's verdict on one vector, by validator name."""
    fast, exact = validators_for(vector.schema_file)
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
    expected = {f"{stem}.json" for stem in EVENT_FILES}
    expected |= {name.removesuffix(".schema.json") + ".json" for name in OTHER_FILES}
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


def _fields(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    """(description prefix, object schema, data -> that object) of each object level with fields:
    the event itself, and for a webhook also its ``payload`` (prefix ``payload.``)."""
    levels: list[tuple[str, dict[str, Any], Any]] = [("", schema, lambda d: d)]
    payload = schema["properties"].get("payload", {})
    if "properties" in payload:
        levels.append(("payload.", payload, lambda d: d.get("payload") if isinstance(d.get("payload"), dict) else {}))
    return levels


@pytest.mark.parametrize("stem", EVENT_FILES)
def test_every_event_has_the_required_valid_cases(stem: str) -> None:
    vectors = _by_file(f"{stem}.json")
    valid = [v for v in vectors if v.valid]
    schema = load_schemas()[f"{stem}.schema.json"]
    datas = [v.data for v in valid]
    levels = _fields(schema)

    def at_every_level(pick: Any) -> bool:
        """Some vector whose keys satisfy ``pick(keys, required, properties)`` at every level at once."""
        return any(
            all(pick(set(get(d)), set(s["required"]), set(s["properties"])) for _, s, get in levels) for d in datas
        )

    assert at_every_level(lambda keys, required, props: keys == required), "no 'required fields only' vector"
    assert at_every_level(lambda keys, required, props: keys == props), "no 'every optional field' vector"
    for prefix, level, get in levels:
        props = set(level["properties"])
        where = prefix or "the event"
        assert any(set(get(d)) - props for d in datas), f"no vector with unknown extra fields in {where}"
    for example in schema.get("examples", []):
        assert example in datas, f"the schema's own example is not a valid vector: {example}"
    prefix, level, get = levels[-1]
    if "destination" in level["properties"]:
        destinations = [get(d)["destination"] for d in datas if "destination" in get(d)]
        forms = {re.match(r"[+a-zA-Z]", x).group(0).lower() for x in destinations}  # type: ignore[union-attr]
        assert {"+", "s"} <= forms, "destination needs both an E.164 and a SIP URI vector"
    if "timestamp" in level["properties"]:
        kinds = {type(get(d)["timestamp"]) for d in datas if "timestamp" in get(d)}
        assert {int, str} <= kinds, "timestamp needs an integer and a numeric-string vector (D3)"


@pytest.mark.parametrize("stem", EVENT_FILES)
def test_every_constraint_is_broken_alone(stem: str) -> None:
    invalid = {v.description for v in _by_file(f"{stem}.json") if not v.valid}
    schema = load_schemas()[f"{stem}.schema.json"]
    missing, untyped = [], []
    for prefix, level, _ in _fields(schema):
        missing += [prefix + f for f in level["required"] if f"missing required field {prefix}{f}" not in invalid]
        untyped += [
            prefix + f
            for f in level["properties"]
            if not any(d.startswith(f"wrong type: {prefix}{f} is ") for d in invalid)
        ]
    assert not missing and not untyped, f"no vector for: missing {missing}, wrong type {untyped}"


@pytest.mark.parametrize("vector", [v for v in VECTORS if not v.valid], ids=lambda v: v.id)
def test_each_invalid_vector_breaks_one_constraint(vector: Vector) -> None:
    """An invalid vector shows exactly one kind of error at one place, so each verdict tests one rule."""
    validator = validators_for(vector.schema_file)[1]
    places = {(tuple(e.absolute_path), e.validator) for e in validator.iter_errors(vector.data)}
    assert len(places) == 1, f"{vector.id} breaks {sorted(places, key=str)}"


def _strings(data: Any) -> dict[str, Any]:
    """The fields of an event and, for a webhook delivery, of its payload."""
    if not isinstance(data, dict):
        return {}
    payload = data.get("payload")
    return {**data, **(payload if isinstance(payload, dict) else {})}


def test_trailing_newline_is_covered() -> None:
    # Python's `$` matches before a final newline; the vectors must pin the ECMA-262 meaning.
    newline = [v for v in VECTORS if any(isinstance(x, str) and x.endswith("\n") for x in _strings(v.data).values())]
    assert any(_strings(v.data).get("destination") == "+12098888888\n" and not v.is_webhook for v in newline)
    assert any(_strings(v.data).get("destination") == "+12098888888\n" and v.is_webhook for v in newline)
    assert any(_strings(v.data).get("timestamp") == "1728023426\n" for v in newline)
    assert all(not v.valid for v in newline)


def test_vector_dir_is_beside_the_schemas() -> None:
    assert (VECTOR_DIR.parent / UNION_SCHEMA).is_file()
