"""The receiver's OpenAPI 3.1 document (``conformance/openapi.py``): self-contained, loadable
by schemathesis, and accepting exactly the events of the chosen family."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from conformance.openapi import BODIES, build_openapi
from conformance.schemas import ACTIONS, load_schemas
from conformance.surfaces import WEBHOOK_TYPES
from conformance.surfaces import webhook_schema_file as schema_file

schemathesis = pytest.importorskip("schemathesis")


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _body_validator(doc: dict[str, Any]) -> Draft202012Validator:
    body = doc["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**body, "components": doc["components"]})


def _examples(body: str) -> list[dict[str, Any]]:
    if body == "pinless-dialin":
        files = ["pinless-dialin.schema.json"]
    elif body == "webhook":
        files = [schema_file(t) for t in WEBHOOK_TYPES]
    else:
        files = [f"{a}.schema.json" for a in ACTIONS]
    return [e for f in files for e in load_schemas()[f]["examples"]]


@pytest.mark.parametrize("body", BODIES)
def test_document_is_self_contained_openapi_31(body: str) -> None:
    doc = build_openapi(body, "/hooks/daily")
    assert doc["openapi"] == "3.1.0"
    assert list(doc["paths"]) == ["/hooks/daily"]
    refs = _refs(doc)
    assert refs and all(r.startswith("#/components/schemas/") for r in refs)
    assert "$id" not in json.dumps(doc)
    json.dumps(doc)  # plain JSON
    schema = schemathesis.openapi.from_dict(doc)
    [op] = [r.ok() for r in schema.get_all_operations()]
    assert (op.method.upper(), op.path) == ("POST", "/hooks/daily")


@pytest.mark.parametrize("body", BODIES)
def test_body_accepts_the_family_and_rejects_the_other(body: str) -> None:
    validator = _body_validator(build_openapi(body))
    for example in _examples(body):
        assert validator.is_valid(example), example
    for other in BODIES:
        if other != body:
            for example in _examples(other):
                assert not validator.is_valid(example), (body, example)
    for bad in ({}, [], "x", None, {"type": "room.started"}, {"action": "dialin-connecte"}):
        assert not validator.is_valid(bad)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="body"):
        build_openapi("sms")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="path"):
        build_openapi("webhook", "hooks")


_OP = schemathesis.openapi.from_dict(build_openapi()).get_all_operations()
_STRATEGY = next(iter(_OP)).ok().as_strategy()
_VALIDATOR = _body_validator(build_openapi())


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=_STRATEGY)
def test_schemathesis_generates_valid_deliveries_from_it(case: Any) -> None:
    assert _VALIDATOR.is_valid(case.body), case.body
    assert case.body["type"] in WEBHOOK_TYPES
