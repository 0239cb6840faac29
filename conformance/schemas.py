"""Loading the JSON Schemas in ``schemas/``: the single source of truth.

The files ship inside the wheel as ``conformance/schemas/``; in a source checkout or an
editable install they are read from the repository's top-level ``schemas/``. Every
``$ref`` resolves from those files: both validators get a registry holding all of them
and are told never to retrieve anything, so nothing is ever fetched from the network.

Two validators are built from each event schema, and tests prove they agree on every
verdict:

* a fast one (jsonschema-rs) that only answers valid/invalid, for the common valid event;
* an exact one (jsonschema, Draft 2020-12) whose errors become findings, used only for
  the events the fast one rejects.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import refs
from .surfaces import (
    ACTIONS,
    DAILY_PYTHON_RECORD_SCHEMA,
    DEFS_SCHEMA,
    HANDLER_METHODS,
    UNION_SCHEMA,
    WEBHOOK_TYPES,
    WEBHOOK_UNION_SCHEMA,
    daily_python_schema_file,
    event_schema_file,
    webhook_schema_file,
)

# The validator libraries are imported where they are first used: this module is imported
# whenever pytest loads the plugin, checking captures or not.
if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

__all__ = ["ACTIONS", "DEFS_SCHEMA", "UNION_SCHEMA", "EventSchema", "event_schemas", "load_schemas", "schema_dir"]


def schema_dir() -> Path:
    """The folder holding the installed schema files, whatever the working directory."""
    packaged = resources.files("conformance") / "schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    # Source checkout or editable install: the repository's top-level schemas/.
    source = Path(__file__).resolve().parent.parent / "schemas"
    if source.is_dir():
        return source
    raise FileNotFoundError("the telephony-conformance schema files are missing from this installation")


@functools.cache
def load_schemas() -> dict[str, dict[str, Any]]:
    """Every ``*.schema.json`` by file name, each checked against the 2020-12 meta-schema once.

    The meta-schema check uses jsonschema-rs, the faster of the two: every process that checks
    a capture pays for it (parallel workers included).
    """
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(schema_dir().glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        import jsonschema_rs

        jsonschema_rs.meta.validate(schema)
        out[path.name] = schema
    return out


def schema_version() -> str:
    """The schema version, as carried in every ``$id`` (``…/schemas/1.1.0/…``)."""
    match = re.search(r"/schemas/([^/]+)/", load_schemas()[UNION_SCHEMA]["$id"])
    return match.group(1) if match else "unknown"


def _refuse_retrieval(uri: str) -> Resource[Any]:
    from referencing.exceptions import NoSuchResource

    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class; mypy sees no __init__


@functools.cache
def registry() -> Registry[Any]:
    """A referencing registry of every schema by ``$id``, as written; unknown URIs are never fetched."""
    return _registry_of(list(load_schemas().values()))


def python_pattern(pattern: str) -> str:
    """An ECMA-262 ``pattern`` as Python's ``re`` must read it to mean the same.

    Python's ``$`` also matches before a final newline, so ``"+12098888888\\n"`` would pass
    ``^\\+[1-9][0-9]{1,14}$`` under ``re.search`` and fail under ajv and jsonschema-rs. Our
    patterns use only ASCII classes and a final ``$``, which becomes ``\\Z`` (end of input).
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


def _python_dialect(node: Any) -> Any:
    """A copy of a schema whose ``pattern``s mean in Python what they mean in ECMA-262; the
    files themselves stay plain ECMA-262 for other languages."""
    if isinstance(node, dict):
        out = {k: _python_dialect(v) for k, v in node.items()}
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            out["pattern"] = python_pattern(pattern)
        return out
    if isinstance(node, list):
        return [_python_dialect(v) for v in node]
    return node


@functools.cache
def _python_registry() -> Registry[Any]:
    return _registry_of([_python_dialect(s) for s in load_schemas().values()])


def _registry_of(schemas: list[dict[str, Any]]) -> Registry[Any]:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources_ = [(s["$id"], Resource.from_contents(s, default_specification=DRAFT202012)) for s in schemas]
    return Registry(retrieve=_refuse_retrieval).with_resources(resources_)  # type: ignore[call-arg]


def exact_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A jsonschema validator for one of our schemas (or a schema referring to them).

    Its ``$ref``s are inlined first, so that a validation does not follow references through
    the registry; the registry stays as a fallback for anything not inlined.
    """
    from jsonschema import Draft202012Validator

    return Draft202012Validator(python_schema(schema), registry=_python_registry())


def python_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of one of our schemas with its ``$ref``s inlined, in the Python dialect."""
    return _python_dialect(inlined(schema))  # type: ignore[no-any-return]


def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of one of our schemas with its ``$ref``s into our schemas inlined."""
    return _inline_refs(schema, schema.get("$id", ""), ())  # type: ignore[no-any-return]


#: Keywords that say nothing about validity.
ANNOTATIONS = frozenset({"description", "$comment", "title", "examples"})
#: The same, with a schema file's own `$schema` and `$id`, and `default`.
_NOT_VALIDATING = ANNOTATIONS | {"$schema", "$id", "default"}


def validity_keywords(node: dict[str, Any]) -> set[str]:
    """The keywords of a schema node that bear on validity."""
    return set(node) - _NOT_VALIDATING


def _inline_refs(node: Any, base: str, seen: tuple[str, ...]) -> Any:
    """A copy of ``node`` with each ``$ref`` into our schemas replaced by what it names.

    A ``$ref`` whose siblings are only annotations merges with its target (the siblings
    win); otherwise both are kept under ``allOf``, which means the same in 2020-12.
    A recursive reference is left as it is, for the registry to resolve.
    """

    def inline(uri: str, node: dict[str, Any]) -> Any:
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if uri in seen or uri.partition("#")[0] not in schemas_by_id():
            return {"$ref": uri, **siblings}
        target, document_uri = refs.resolve(uri, schemas_by_id())
        inlined = _inline_refs(target, document_uri, (*seen, uri))
        inlined = {k: v for k, v in inlined.items() if k not in ("$id", "$schema")}
        if set(siblings) <= ANNOTATIONS:
            return {**inlined, **siblings}
        return {"allOf": [inlined], **siblings}

    return refs.map_refs(node, base, inline)


@functools.cache
def schemas_by_id() -> dict[str, dict[str, Any]]:
    """Every schema by its ``$id``."""
    return {s["$id"]: s for s in load_schemas().values()}


@dataclass(frozen=True)
class EventSchema:
    """One telephony action's schema with its two validators and its documented fields."""

    action: str
    schema: dict[str, Any]
    fast: Any  # jsonschema_rs validator: is_valid() only
    exact: Draft202012Validator  # jsonschema validator: iter_errors() for findings
    documented: frozenset[str]  # top-level properties the schema names
    nested_documented: dict[str, frozenset[str]]  # object-valued property -> its named properties

    @functools.cached_property
    def exact_parts(self) -> tuple[list[str], Any] | None:
        """``(required fields, an exact validator of the properties alone)``, to explain an
        invalid event field by field (:mod:`.check.explain`); ``None`` unless the schema is an
        object with ``required`` and ``properties`` only. Built on first use."""
        schema: Any = self.exact.schema
        if not isinstance(schema, dict) or schema.get("type") != "object":
            return None
        if not validity_keywords(schema) <= {"type", "required", "properties"}:
            return None
        rest = {k: v for k, v in schema.items() if k != "required"}
        return list(schema.get("required", ())), self.exact.evolve(schema=rest)

    @functools.cached_property
    def explanations(self) -> dict[Any, Any]:
        """The explanations of recent defects of this schema's events, for :mod:`.check.explain`."""
        return {}


@functools.cache
def event_schemas() -> dict[str, EventSchema]:
    """The ten client-event :class:`EventSchema` objects by action, built once per process."""
    schemas = load_schemas()
    return _build_event_schemas({action: schemas[event_schema_file(action)] for action in ACTIONS})


@functools.cache
def webhook_schemas() -> dict[str, EventSchema]:
    """The ten webhook :class:`EventSchema` objects by ``type`` (their ``action`` holds the
    webhook type, so findings name it), built once per process."""
    schemas = load_schemas()
    return _build_event_schemas({kind: schemas[webhook_schema_file(kind)] for kind in WEBHOOK_TYPES})


@functools.cache
def daily_python_schemas() -> dict[str, EventSchema]:
    """The ten daily-python :class:`EventSchema` objects by handler (their ``action`` holds the
    handler, so findings name it), built once per process.

    Each checks a whole recorded line, ``daily-python-record.schema.json``'s properties with
    ``handler`` fixed and ``data`` the handler's profile (``daily-python-<action>.schema.json``),
    so that a finding points into the line (``/data/sessionId``).
    """
    record = load_schemas()[DAILY_PYTHON_RECORD_SCHEMA]
    composed = {}
    for action, handler in HANDLER_METHODS.items():
        properties = {
            **record["properties"],
            "handler": {"const": handler},
            "data": {"$ref": refs.absolute(record["$id"], daily_python_schema_file(action))},
        }
        composed[handler] = {"type": "object", "required": record["required"], "properties": properties}
    return _build_event_schemas(composed)


def _build_event_schemas(schemas: dict[str, dict[str, Any]]) -> dict[str, EventSchema]:
    """:class:`EventSchema` objects for event names mapped to their schemas."""
    import jsonschema_rs

    rs_registry = jsonschema_rs.Registry([(s["$id"], s) for s in load_schemas().values()])
    out: dict[str, EventSchema] = {}
    for name, schema in schemas.items():
        exact = exact_validator(schema)
        # The properties as the validators see them, $refs followed: a daily-python record's
        # data is a $ref to its profile.
        props = exact.schema.get("properties", {}) if isinstance(exact.schema, dict) else {}
        out[name] = EventSchema(
            action=name,
            schema=schema,
            # Inlined: jsonschema-rs would follow a $ref at every validation.
            fast=jsonschema_rs.validator_for(inlined(schema), registry=rs_registry, offline=True),
            exact=exact,
            documented=frozenset(props),
            nested_documented={
                key: frozenset(sub["properties"])
                for key, sub in props.items()
                if isinstance(sub, dict) and isinstance(sub.get("properties"), dict)
            },
        )
    return out


def union_validator() -> Any:
    """An exact validator for ``telephony-event.schema.json`` (any of the ten events)."""
    return exact_validator(load_schemas()[UNION_SCHEMA])


def webhook_union_validator() -> Any:
    """An exact validator for ``webhook-event.schema.json`` (any of the ten deliveries)."""
    return exact_validator(load_schemas()[WEBHOOK_UNION_SCHEMA])
