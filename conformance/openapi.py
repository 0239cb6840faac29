"""An OpenAPI 3.1 document for an HTTP receiver of telephony events.

The receiver is one ``POST`` endpoint whose request body is one of the ten Daily webhook
deliveries (``--body webhook``, the default) or, for teams that forward client events
from the browser, one of the ten daily-js events (``--body client``). OpenAPI 3.1 uses
JSON Schema 2020-12, so the schema files go in as they are: each becomes
``#/components/schemas/<file stem>`` (``webhook-dialin-ready``, ``defs`` …) and every
``$ref`` is rewritten to point inside the document. Nothing refers outside it, so any tool
(schemathesis, Prism, an OpenAPI client generator) can use it offline.

The body is a ``oneOf`` over the ten event schemas rather than the ``if``/``then`` union:
both accept exactly the same deliveries (each branch fixes ``type``/``action`` with a
``const``), and a ``oneOf`` of plain objects is what test-data generators handle best.
The union schema is embedded too, for reference.

Signature headers are described in the operation's text, not as parameters: a generator
would fill parameters with random values, while a signature must be computed over the
exact body (see :mod:`conformance.receivers.signing`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

from .bundle import rewrite_refs
from .schemas import load_schemas, schema_version
from .surfaces import (
    ACTIONS,
    DEFS_SCHEMA,
    PINLESS_DIALIN_SCHEMA,
    UNION_SCHEMA,
    WEBHOOK_DEFS_SCHEMA,
    WEBHOOK_TYPES,
    WEBHOOK_UNION_SCHEMA,
    event_schema_file,
    schema_name,
    webhook_schema_file,
)

Body = Literal["webhook", "client", "pinless-dialin"]
BODIES: tuple[Body, ...] = ("webhook", "client", "pinless-dialin")
COMPONENTS = "#/components/schemas/"


@dataclass(frozen=True)
class BodyKind:
    """What one kind of receiver is sent, as the document describes it."""

    events: tuple[str, ...]  # the schema files of the bodies it takes, one per event
    support: tuple[str, ...]  # the files they refer to
    union: str  # the file of any body it takes
    key: str | None  # the field that names a body's event (None: one kind of body)
    what: str  # a body, in words
    title: str  # the receiver, in words
    description: str
    operation_id: str
    nested: str | None = None  # the field that holds the event's own fields (None: the body itself)
    unknown: str | None = None  # a value of ``key`` that names no event, for a non-event body
    signed: bool = False  # Daily signs these bodies: a wrong signature gets a 401/403


KINDS: dict[str, BodyKind] = {
    "webhook": BodyKind(
        tuple(webhook_schema_file(t) for t in WEBHOOK_TYPES),
        (WEBHOOK_DEFS_SCHEMA, DEFS_SCHEMA),
        WEBHOOK_UNION_SCHEMA,
        "type",
        "telephony webhook delivery",
        "Telephony webhook receiver",
        "Receives Daily's REST webhooks for SIP/PSTN dial-in and dial-out "
        "(dialin.ready … dialout.warning). Daily signs each delivery: the headers "
        "X-Webhook-Signature (HMAC-SHA256, base64) and X-Webhook-Timestamp; a receiver that "
        "verifies them answers 401 or 403 to a wrong signature or a stale timestamp. "
        "Deliveries may be retried (the same 'id' again) and may arrive out of order.",
        "receiveTelephonyWebhook",
        nested="payload",
        unknown="dialin.teleported",
        signed=True,
    ),
    "client": BodyKind(
        tuple(event_schema_file(a) for a in ACTIONS),
        (DEFS_SCHEMA,),
        UNION_SCHEMA,
        "action",
        "telephony client event",
        "Telephony client-event receiver",
        "Receives daily-js/react-native telephony events forwarded from a client "
        "(dialin-ready … dialout-warning), one event object per request.",
        "receiveTelephonyClientEvent",
        unknown="dialin-teleported",
    ),
    "pinless-dialin": BodyKind(
        (PINLESS_DIALIN_SCHEMA,),
        (DEFS_SCHEMA,),
        PINLESS_DIALIN_SCHEMA,
        None,
        "pinless dial-in call",
        "Pinless dial-in receiver",
        "Receives Daily's call to the room_creation_api URL of a pinless dial-in or SIP "
        "interconnect config: a caller is on hold until the server creates a room and calls "
        "pinlessCallUpdate. When the config is created or updated, Daily sends a verification "
        "request, {\"To\": <the number>}, and recommends a 200 answer.",
        "receivePinlessDialinCall",
    ),
}


def kind_of(body: Body) -> BodyKind:
    """The :class:`BodyKind` of ``body``; ``ValueError`` for an unknown one."""
    if body not in KINDS:
        raise ValueError(f"unknown body {body!r}: choose one of {', '.join(BODIES)}")
    return KINDS[body]


def body_schema(body: Body = "webhook") -> dict[str, Any]:
    """The request body's schema, as it appears in the document (refs into components)."""
    kind = kind_of(body)
    if len(kind.events) == 1:
        return {"$ref": COMPONENTS + schema_name(kind.events[0])}
    return {
        "description": f"One {kind.what}: any of the ten, told apart by '{kind.key}'.",
        "oneOf": [{"$ref": COMPONENTS + schema_name(f)} for f in kind.events],
    }


def build_openapi(body: Body = "webhook", path: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.1 document of a receiver at ``path`` taking ``body`` events.

    This is what ``telephony-conformance openapi [--body webhook|client|pinless-dialin]
    [--path /]`` prints (as JSON). Raises ``ValueError`` for an unknown ``body`` or a ``path``
    not starting with '/'.
    """
    if not path.startswith("/"):
        raise ValueError(f"path {path!r} must start with '/'")
    kind = kind_of(body)
    schemas = load_schemas()
    files = list(dict.fromkeys((*kind.events, *kind.support, kind.union)))
    name_of = {schemas[f]["$id"]: schema_name(f) for f in files}
    prefix_of = {uri: COMPONENTS + name for uri, name in name_of.items()}
    components: dict[str, Any] = {}
    for f in files:
        resource = rewrite_refs(copy.deepcopy(schemas[f]), schemas[f]["$id"], prefix_of)
        # An embedded $id would change the base URI its refs resolve against; $schema is
        # implied by jsonSchemaDialect.
        resource.pop("$id", None)
        resource.pop("$schema", None)
        components[schema_name(f)] = resource
    operation: dict[str, Any] = {
        "operationId": kind.operation_id,
        "summary": f"Receive one {kind.what}",
        "description": kind.description,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": body_schema(body)}},
        },
        "responses": {
            "2XX": {"description": "The event was accepted (a broken but recognisable event may be acknowledged too)."},
            "4XX": {"description": "The body is not an event, or (strict receivers) a field is broken."},
        },
    }
    if kind.signed:
        operation["responses"]["401"] = {"description": "The signature is missing or wrong."}
        operation["responses"]["403"] = {"description": "The signature or its timestamp was refused."}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": kind.title,
            "version": schema_version(),
            "description": "Generated by telephony-conformance from its JSON Schemas "
            f"(schema version {schema_version()}); every schema is embedded, nothing is fetched.",
        },
        "paths": {path: {"post": operation}},
        "components": {"schemas": components},
    }
