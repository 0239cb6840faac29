"""A single-file bundle of the schemas, for tools that do not resolve references across files.

The bundle is the union schema (``telephony-event.schema.json``) with every other schema of
events placed under its ``$defs`` by file stem (``#/$defs/dialin-ready``, ``#/$defs/defs``,
``#/$defs/daily-python-record``, ``#/$defs/webhook-event`` …) and every ``$ref`` rewritten to
a JSON pointer inside the bundle. The embedded resources lose their ``$id``/``$schema``, so
the bundle is one plain resource: it needs no support for embedded ``$id`` (2020-12 §9.3) and
no registry at all, and a validator given only this document resolves everything. Validated
against as a whole, it is the union of the ten client events; every other schema stays
reachable as ``<bundle $id>#/$defs/<file stem>``. The report's schema is not bundled.
"""

from __future__ import annotations

import copy
from typing import Any

from . import refs
from .schemas import load_schemas
from .surfaces import REPORT_SCHEMA, UNION_SCHEMA, schema_name

#: File name of the bundle, also the last segment of its ``$id``.
BUNDLE_NAME = "telephony-event.bundle.json"

# Keywords whose presence would need more than JSON-pointer rewriting; our schemas use
# none, and bundling refuses them rather than emit a subtly wrong bundle.
_UNSUPPORTED = ("$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef")


def rewrite_refs(node: Any, base: str, prefix_of: dict[str, str]) -> Any:
    """A copy of ``node`` with each ``$ref`` (relative to ``base``) turned into a pointer inside
    one document: ``prefix_of`` maps each schema's ``$id`` to where it sits there."""
    for sub in refs.subschemas(node):
        for keyword in _UNSUPPORTED:
            if keyword in sub:
                raise ValueError(f"cannot bundle a schema using {keyword}")

    def local(uri: str, node: dict[str, Any]) -> Any:
        document, _, fragment = uri.partition("#")
        if document not in prefix_of:
            raise ValueError(f"$ref {node['$ref']!r} in {base} leaves the schema set")
        if fragment and not fragment.startswith("/"):
            raise ValueError(f"$ref {node['$ref']!r} in {base}: only JSON-pointer fragments can be bundled")
        node["$ref"] = prefix_of[document] + fragment
        return node

    return refs.map_refs(node, base, local)


def bundle() -> dict[str, Any]:
    """The union schema with every other schema of events bundled, and every ``$ref`` resolved
    inside one document (see the module doc)."""
    schemas = load_schemas()
    by_id = {s["$id"]: name for name, s in schemas.items()}
    root = schemas[UNION_SCHEMA]

    # Every resource reachable from the union, then every other one, in a stable order.
    reached: list[str] = []
    others = [s["$id"] for name, s in sorted(schemas.items()) if name not in (UNION_SCHEMA, REPORT_SCHEMA)]
    pending = [root["$id"], *others]
    while pending:
        uri = pending.pop(0)
        if uri in reached:
            continue
        if uri not in by_id:
            raise ValueError(f"{uri} is referenced but is not one of the schema files")
        reached.append(uri)
        pending += sorted(refs.referenced_documents(schemas[by_id[uri]], uri) - set(reached))

    root_defs = root.get("$defs", {})
    prefix_of = {root["$id"]: "#"}
    for uri in reached[1:]:
        key = schema_name(by_id[uri])
        if key in root_defs:
            raise ValueError(f"$defs/{key} of {UNION_SCHEMA} would collide with the bundled {by_id[uri]}")
        prefix_of[uri] = f"#/$defs/{key}"

    out: dict[str, Any] = rewrite_refs(root, root["$id"], prefix_of)
    out["$id"] = root["$id"].rsplit("/", 1)[0] + "/" + BUNDLE_NAME
    out["title"] = f"{root['title']} (single-file bundle)"
    out["$comment"] = (
        f"Generated from {UNION_SCHEMA} and the other schemas of events; do not edit. Each schema "
        "is at #/$defs/<its file name less .schema.json>: #/$defs/dialin-ready, #/$defs/defs, "
        "#/$defs/daily-python-record, #/$defs/webhook-event."
    )
    bundled_defs = dict(out.get("$defs", {}))
    for uri in reached[1:]:
        resource = rewrite_refs(copy.deepcopy(schemas[by_id[uri]]), uri, prefix_of)
        # One resource only: an embedded $id would change the base URI of its refs.
        resource.pop("$id", None)
        resource.pop("$schema", None)
        bundled_defs[schema_name(by_id[uri])] = resource
    out["$defs"] = bundled_defs
    return out
