"""Walking the ``$ref``s of our schemas: the one place that knows how references resolve.

Our schemas refer to each other by relative file names (``defs.schema.json#/$defs/e164``),
resolved against the ``$id`` of the schema that holds them (JSON Schema 2020-12 §8.2), with
JSON-pointer fragments. Three jobs need that: inlining references for the validators
(:mod:`.schemas`), rewriting them into one document (:mod:`.bundle`, :mod:`.openapi`), and
generating values from the schema a reference names (:mod:`.fuzz`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

#: ``replace(uri, node)``: what a node with a ``$ref`` to ``uri`` becomes; ``node`` is its copy,
#: with its other keywords already walked and its ``$ref`` still as written.
Replace = Callable[[str, dict[str, Any]], Any]


def absolute(base: str, ref: str) -> str:
    """A ``$ref`` as an absolute URI, resolved against the ``$id`` of the document holding it."""
    return urljoin(base, ref)


def map_refs(node: Any, base: str, replace: Replace) -> Any:
    """A copy of ``node`` in which every object with a string ``$ref`` is ``replace``d."""
    if isinstance(node, list):
        return [map_refs(value, base, replace) for value in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    walked = {key: value if key == "$ref" else map_refs(value, base, replace) for key, value in node.items()}
    if not isinstance(ref, str):
        return walked
    return replace(absolute(base, ref), walked)


def subschemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in ``node``, ``node`` first (depth first, in document order)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from subschemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from subschemas(value)


def referenced_documents(node: Any, base: str) -> set[str]:
    """The absolute URIs (no fragment) of the documents that ``$ref``s under ``node`` point at."""
    return {
        absolute(base, sub["$ref"]).partition("#")[0] for sub in subschemas(node) if isinstance(sub.get("$ref"), str)
    }


def resolve(uri: str, documents: Mapping[str, Any]) -> tuple[Any, str]:
    """``(the node uri names, its document's URI)``; ``documents`` maps ``$id`` to document.

    Raises ``KeyError`` for a document that is not one of ``documents``, or a pointer that
    names nothing in it.
    """
    document_uri, _, fragment = uri.partition("#")
    node: Any = documents[document_uri]
    for token in fragment.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node, document_uri
