"""The webhook schema family (``schemas/webhook-*.schema.json``): every published webhook
example validates, each is carried in its schema's ``examples``, the decisions on the
sources' disagreements (D2, D3, D4, D23) hold, and broken deliveries fail.

The published examples are bundled verbatim in ``tests/data/published`` (see its README);
the schemas embed the same examples, and both copies are checked.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from conformance.schemas import exact_validator, load_schemas

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = REPO / "tests" / "data" / "published"
BASE = "https://telephony-conformance.example/schemas/1.1.0/"
TYPES = (
    "dialin.ready",
    "dialin.connected",
    "dialin.stopped",
    "dialin.error",
    "dialin.warning",
    "dialout.connected",
    "dialout.answered",
    "dialout.stopped",
    "dialout.error",
    "dialout.warning",
)
UNION = "webhook-event.schema.json"
SESSION_TYPES = [t for t in TYPES if t != "dialin.ready"]


def _file(type_: str) -> str:
    return "webhook-" + type_.replace(".", "-") + ".schema.json"


def _fast(name: str) -> Any:
    schemas = load_schemas()
    registry = jsonschema_rs.Registry([(s["$id"], s) for s in schemas.values()])
    return jsonschema_rs.validator_for(schemas[name], registry=registry, offline=True)


_VALIDATORS: dict[str, tuple[Any, Any]] = {}


def _validators(name: str) -> tuple[Any, Any]:
    if name not in _VALIDATORS:
        _VALIDATORS[name] = (_fast(name), exact_validator(load_schemas()[name]))
    return _VALIDATORS[name]


def verdict(name: str, data: Any) -> bool:
    """Both validators' verdict; they must agree."""
    fast, exact = _validators(name)
    a, b = bool(fast.is_valid(data)), bool(exact.is_valid(data))
    assert a == b, f"jsonschema-rs says {a}, jsonschema says {b} for {data!r} under {name}"
    return a


def valid_everywhere(data: dict[str, Any]) -> bool:
    """Valid under its own schema and under the union (which must agree)."""
    own = verdict(_file(data["type"]), data) if data.get("type") in TYPES else False
    assert verdict(UNION, data) == own or data.get("type") not in TYPES
    return own and verdict(UNION, data)


def _embedded() -> list[tuple[str, dict[str, Any]]]:
    return [(t, e) for t in TYPES for e in load_schemas()[_file(t)]["examples"]]


def _reference_files() -> list[Path]:
    return sorted(PUBLISHED.glob("webhook--*.json"))


# --- the published examples ---------------------------------------------------------------
def test_there_are_published_webhook_examples() -> None:
    assert len(_reference_files()) >= 10


@pytest.mark.parametrize("path", _reference_files(), ids=lambda p: p.name)
def test_every_published_example_validates_and_is_embedded(path: Path) -> None:
    example = json.loads(path.read_text(encoding="utf-8"))
    type_ = path.name.split("--")[1].replace("-", ".", 1)
    assert example["type"] == type_
    assert valid_everywhere(example)
    assert example in load_schemas()[_file(type_)]["examples"], f"{path.name} is not in {_file(type_)} examples"


@pytest.mark.parametrize(("type_", "example"), _embedded(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_embedded_example_validates(type_: str, example: dict[str, Any]) -> None:
    assert example["type"] == type_
    assert valid_everywhere(example)


def test_every_type_has_an_example() -> None:
    for type_ in TYPES:
        assert load_schemas()[_file(type_)]["examples"], type_


# --- style ----------------------------------------------------------------------------------
def _walk(node: Any, path: str = "") -> Any:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key not in ("examples", "const", "enum", "if"):  # an if-branch only selects
                yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


WEBHOOK_FILES = sorted(n for n in load_schemas() if n.startswith("webhook-"))


def test_the_family_is_complete() -> None:
    assert set(WEBHOOK_FILES) == {_file(t) for t in TYPES} | {UNION, "webhook-defs.schema.json"}


@pytest.mark.parametrize("name", WEBHOOK_FILES)
def test_style(name: str) -> None:
    schema = load_schemas()[name]
    assert schema["$id"] == BASE + name
    assert schema["title"] and schema["description"]
    for path, node in _walk(schema):
        props = node.get("properties")
        if isinstance(props, dict):
            for field, sub in props.items():
                assert sub.get("description"), f"{name}{path}/properties/{field} has no description"
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            # ECMA-262 and RE2 both: no lookaround, no backreferences, no possessive/atomic groups.
            assert not re.search(r"\(\?[=!<>]|\\[1-9]|\\k<|[*+?}]\+", pattern), f"{name}{path}: {pattern}"
        ref = node.get("$ref")
        if isinstance(ref, str):
            assert not ref.startswith(("http:", "https:")), f"{name}{path}: absolute $ref {ref}"
    if name != "webhook-defs.schema.json" and name != UNION:
        assert "$comment" in schema["properties"]["payload"], f"{name}: payload decisions undocumented"


def test_union_dispatches_on_every_type() -> None:
    union = load_schemas()[UNION]
    assert union["properties"]["type"]["enum"] == list(TYPES)
    dispatched = [branch["if"]["properties"]["type"]["const"] for branch in union["allOf"]]
    assert dispatched == list(TYPES)
    assert [branch["then"]["$ref"] for branch in union["allOf"]] == [_file(t) for t in TYPES]


# --- the decisions ----------------------------------------------------------------------
def _example(type_: str) -> dict[str, Any]:
    return copy.deepcopy(load_schemas()[_file(type_)]["examples"][0])


@pytest.mark.parametrize("type_", TYPES)
def test_d3_timestamp_integer_or_numeric_string(type_: str) -> None:
    event = _example(type_)
    for good in ("1728023426", 1728023426, 0, "0"):
        event["payload"]["timestamp"] = good
        assert valid_everywhere(event), good
    for bad in ("1728023426.5", 1728023426.5, "", "17 28", "-1", -1, "soon", None, True, "1728023426\n"):
        event["payload"]["timestamp"] = bad
        assert not valid_everywhere(event), bad


def test_d2_error_msg_optional_on_dialout_warning() -> None:
    event = _example("dialout.warning")
    assert "error_msg" not in event["payload"]
    assert valid_everywhere(event)
    event["payload"]["error_msg"] = "codec fallback"
    assert valid_everywhere(event)
    event["payload"]["error_msg"] = 42
    assert not valid_everywhere(event)


@pytest.mark.parametrize("type_", ["dialin.error", "dialin.warning", "dialout.error"])
def test_error_msg_required_elsewhere(type_: str) -> None:
    event = _example(type_)
    del event["payload"]["error_msg"]
    assert not valid_everywhere(event)


@pytest.mark.parametrize("type_", ["dialout.connected", "dialout.answered", "dialout.stopped", "dialout.warning"])
def test_d4_origin_and_d23_user_id_optional(type_: str) -> None:
    event = _example(type_)
    event["payload"].pop("origin", None)
    event["payload"].pop("user_id", None)
    assert valid_everywhere(event)
    event["payload"]["user_id"] = "user_123"
    event["payload"]["origin"] = "+13977888822"
    assert valid_everywhere(event)
    event["payload"]["origin"] = "13977888822"  # neither E.164 nor a SIP URI
    assert not valid_everywhere(event)


@pytest.mark.parametrize("type_", SESSION_TYPES)
def test_session_id_required_on_session_events(type_: str) -> None:
    event = _example(type_)
    del event["payload"]["session_id"]
    assert not valid_everywhere(event)


@pytest.mark.parametrize("type_", TYPES)
def test_unknown_extra_fields_allowed(type_: str) -> None:
    event = _example(type_)
    event["retry_count"] = 2
    event["payload"]["provider"] = "daily"
    event["payload"]["future_field"] = {"any": ["thing"]}
    assert valid_everywhere(event)


# --- broken deliveries fail -------------------------------------------------------------
def _required_paths(type_: str) -> list[tuple[str, ...]]:
    schema = load_schemas()[_file(type_)]
    return [(f,) for f in schema["required"]] + [("payload", f) for f in schema["properties"]["payload"]["required"]]


def _all_fields(type_: str) -> list[tuple[str, ...]]:
    schema = load_schemas()[_file(type_)]
    return [(f,) for f in schema["properties"]] + [
        ("payload", f) for f in schema["properties"]["payload"]["properties"]
    ]


def _set(event: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@pytest.mark.parametrize("type_", TYPES)
def test_missing_required_field_fails(type_: str) -> None:
    for path in _required_paths(type_):
        event = _example(type_)
        target = event if len(path) == 1 else event["payload"]
        del target[path[-1]]
        assert not verdict(_file(type_), event), path
        assert not verdict(UNION, event), path  # without a type the union cannot dispatch: it requires one


@pytest.mark.parametrize("type_", TYPES)
def test_null_or_wrong_type_fails_for_every_field(type_: str) -> None:
    for path in _all_fields(type_):
        for bad in (None, ["x"]):
            event = _example(type_)
            _set(event, path, bad)
            assert not verdict(_file(type_), event), (path, bad)
            if path != ("type",):
                assert not verdict(UNION, event), (path, bad)


def test_not_an_object_and_unknown_type_fail_the_union() -> None:
    for bad in ([], "dialin.connected", 1, None, {}, {"type": "dialin.connect"}, {"type": "room.started"}):
        assert not verdict(UNION, bad), bad


def test_a_type_mismatched_payload_fails() -> None:
    event = _example("dialin.warning")
    event["type"] = "dialout.warning"  # a dial-in payload has no destination
    assert not valid_everywhere(event)


@pytest.mark.parametrize("field", ["destination", "origin"])
def test_addresses_must_be_e164_or_sip(field: str) -> None:
    event = _example("dialout.connected")
    for bad in ("12098888888", "tel:+12098888888", "sip: spaced@host", ""):
        event["payload"][field] = bad
        assert not valid_everywhere(event), bad
