"""Strategies built by walking a schema: values valid under it by construction.

Each event schema is walked (``$ref``s followed through :mod:`conformance.refs`) and every
property becomes a strategy from its ``type``/``pattern``/``enum``/``const``/``anyOf``, so a
schema change changes what is generated. A def with a realistic generator
(:data:`~.values.REALISTIC`) draws from it instead, as long as the def's pattern is the one
the generator was written for; any other pattern falls back to ``st.from_regex``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from hypothesis import strategies as st

from .. import refs
from ..schemas import event_schemas, load_schemas, python_pattern, schemas_by_id
from ..surfaces import DAILY_PYTHON_DOCUMENTED, DEFS_SCHEMA, daily_python_schema_file
from .values import REALISTIC, REALISTIC_PATTERNS, header_names, json_values

#: The surfaces events are generated for: daily-js objects, or what daily-python hands a handler.
GENERATED_SURFACES = ("daily-js", "daily-python")

Event = dict[str, Any]
Strategy = st.SearchStrategy


def _id_of(file_name: str) -> str:
    return load_schemas()[file_name]["$id"]  # type: ignore[no-any-return]


def resolved(schema: dict[str, Any], base: str) -> tuple[dict[str, Any], str, str | None]:
    """``(schema, base, def name)`` after following ``$ref``s; ``base`` is the ``$id`` (or file
    name) of the document that holds ``schema``, and the def name is that of the last def of
    ``defs.schema.json`` followed (``None`` when none was)."""
    base = _id_of(base) if base in load_schemas() else base
    name = None
    while "$ref" in schema:
        uri = refs.absolute(base, schema["$ref"])
        schema, base = refs.resolve(uri, schemas_by_id())
        document, _, fragment = uri.partition("#")
        if document == _id_of(DEFS_SCHEMA) and fragment.startswith("/$defs/"):
            name = fragment.rsplit("/", 1)[-1]
    return schema, base, name


def value_strategy(schema: dict[str, Any], base: str, hint: str = "") -> Strategy[Any]:
    """Values valid under ``schema`` (a property schema, possibly a ``$ref``), held in the
    document ``base``; ``hint`` is the property's name."""
    schema, base, def_name = resolved(schema, base)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if "anyOf" in schema:
        return st.one_of([value_strategy(s, base, hint) for s in schema["anyOf"]])
    typ = schema.get("type")
    if def_name in REALISTIC and typ is not None and schema.get("pattern") == REALISTIC_PATTERNS.get(def_name):
        return REALISTIC[def_name]()
    if hint == "sipHeaders" and typ == "object" and "additionalProperties" in schema:
        return st.dictionaries(header_names(), value_strategy(schema["additionalProperties"], base), max_size=4)
    return _by_type(schema, base, hint)


def _by_type(schema: dict[str, Any], base: str, hint: str) -> Strategy[Any]:
    typ = schema.get("type")
    if isinstance(typ, list):
        return st.one_of([_by_type({**schema, "type": t}, base, hint) for t in typ])
    if typ == "string":
        if "pattern" in schema:
            return st.from_regex(re.compile(python_pattern(schema["pattern"])), fullmatch=True)
        return st.text(max_size=40)
    if typ == "object":
        return object_strategy(schema, base)
    if typ == "array":
        items = schema.get("items")
        return st.lists(value_strategy(items, base) if isinstance(items, dict) else json_values(), max_size=4)
    if typ == "integer":
        return st.integers(min_value=-(2**53), max_value=2**53)
    if typ == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if typ == "boolean":
        return st.booleans()
    if typ == "null":
        return st.none()
    return json_values()


def object_strategy(
    schema: dict[str, Any], base: str, extras: Strategy[dict[str, Any]] | None = None
) -> Strategy[dict[str, Any]]:
    """Objects with the required properties and none, all or some of the optional ones, and
    the ``extras`` drawn (fields no property names).

    Three variants, each about a third of the draws, so that every one turns up often: only
    the required fields (where values shrink to), every field, and a mix.
    """
    props: dict[str, Any] = schema.get("properties", {})
    required = [(p, value_strategy(props[p], base, p)) for p in schema.get("required", []) if p in props]
    optional = [(p, value_strategy(s, base, p)) for p, s in props.items() if p not in dict(required)]
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict) and not props:
        return st.dictionaries(st.text(max_size=12), value_strategy(additional, base), max_size=4)
    full = (1 << len(optional)) - 1
    # One draw says which optional fields are present: 0 none, 1 all, else a mix (a bit mask).
    layouts = st.integers(0, full + 2) if optional else st.just(0)
    extra_fields = extras if extras is not None else st.just({})

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out = {name: draw(values) for name, values in required}
        layout = draw(layouts)
        present = 0 if layout == 0 else full if layout == 1 else layout - 2
        for bit, (name, values) in enumerate(optional):
            if present >> bit & 1:
                out[name] = draw(values)
        for name, value in draw(extra_fields).items():
            out.setdefault(name, value)
        return out

    return build()


@functools.cache
def known_fields(surface: str = "daily-js") -> frozenset[str]:
    """Every property name the surface's event schemas use: an extra field must not be one of
    them (an extra ``destination`` on a dial-in event would take part in the L305 identity
    check)."""
    names = {"action"}
    for es in event_schemas().values():
        names |= es.documented
        for nested in es.nested_documented.values():
            names |= nested
    if surface == "daily-python":
        for action in DAILY_PYTHON_DOCUMENTED:
            names |= set(load_schemas()[daily_python_schema_file(action)]["properties"])
    return frozenset(names)


_EXTRA_NAMES = ("displayName", "participantId", "timestamp", "region", "codec", "retryCount", "meta", "x", "_internal")


@functools.cache
def extra_fields(surface: str = "daily-js") -> Strategy[dict[str, Any]]:
    """Unknown fields, as an event from a newer Daily would carry (D6, D20, D24); often none."""
    names = [n for n in _EXTRA_NAMES if n not in known_fields(surface)]
    some = st.dictionaries(st.sampled_from(names), json_values(), min_size=1, max_size=2)
    return st.one_of(st.just({}), some)


@functools.cache
def event_strategy(action: str, surface: str = "daily-js") -> Strategy[Event]:
    """Valid events of one telephony action, from its schema on ``surface``, sometimes with
    extra fields.

    A daily-python event is what its handler is given, with the ``action`` it stands for (and,
    in a stream, the ``callClientId`` of its client) beside it, for the consumer adapter to take
    off: the keys daily-python documents for it always (:data:`DAILY_PYTHON_DOCUMENTED`,
    ``sessionId`` only sometimes where an event may come before its session, L12), the other
    keys of its profile sometimes; ``dialin-ready``'s is its ``sipEndpoint`` string alone.
    """
    if surface == "daily-js":
        schema = event_schemas()[action].schema
        return object_strategy(schema, schema["$id"], extras=extra_fields())
    if surface != "daily-python":
        raise ValueError(f"events are generated for {', '.join(GENERATED_SURFACES)}, not {surface!r}")
    profile = load_schemas()[daily_python_schema_file(action)]
    if action == "dialin-ready":
        return value_strategy(profile, profile["$id"], "sipEndpoint").map(
            lambda endpoint: {"action": action, "sipEndpoint": endpoint}
        )
    optional_session = "sessionId" not in profile["required"]
    promised = [k for k in DAILY_PYTHON_DOCUMENTED[action] if not (k == "sessionId" and optional_session)]
    shaped = {**profile, "required": promised}
    return object_strategy(shaped, profile["$id"], extras=extra_fields(surface)).map(
        lambda data: {"action": action, **data}
    )


@functools.cache
def def_value(name: str) -> Strategy[Any]:
    """Values valid under the def ``name`` of ``defs.schema.json``."""
    return value_strategy({"$ref": f"{DEFS_SCHEMA}#/$defs/{name}"}, DEFS_SCHEMA, name)


def surface_schema(action: str, surface: str = "daily-js") -> dict[str, Any]:
    """The schema of an action's events on ``surface``: its daily-js schema or its daily-python profile."""
    if surface == "daily-python":
        return load_schemas()[daily_python_schema_file(action)]
    return event_schemas()[action].schema


def event_fields(action: str, surface: str = "daily-js") -> tuple[dict[str, Any], list[str]]:
    """``(properties, required)`` of an action's generated events on ``surface``. daily-python's
    ``dialin-ready`` is its ``sipEndpoint`` alone (see :func:`event_strategy`)."""
    schema = surface_schema(action, surface)
    if surface == "daily-python" and action == "dialin-ready":
        return {"sipEndpoint": schema}, ["sipEndpoint"]
    return schema["properties"], [name for name in schema.get("required", []) if name != "action"]


def field_schema(action: str, name: str, surface: str = "daily-js") -> tuple[dict[str, Any], str, str | None]:
    """``(schema, base, def name)`` of one field of an action's events, ``$ref``s followed."""
    return resolved(event_fields(action, surface)[0][name], surface_schema(action, surface)["$id"])
