"""Helpers for the webhook tests: documented webhook deliveries with fields overridden."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from conformance.schemas import load_schemas
from conformance.surfaces import WEBHOOK_TYPES
from conformance.surfaces import webhook_schema_file as schema_file

DROP = object()


def make_webhook(
    webhook_type: str, ts: int | str | None = None, sid: str | None = None, **payload: Any
) -> dict[str, Any]:
    """The first documented example of ``webhook_type`` with payload fields overridden.

    ``ts`` sets ``payload.timestamp``, ``sid`` ``payload.session_id``; the delivery ``id`` is
    made unique per (type, session, timestamp) so that two calls are two deliveries, not a retry.
    A payload value of :data:`DROP` removes the field; ``_id``/``_type`` override the envelope.
    """
    event = copy.deepcopy(load_schemas()[schema_file(webhook_type)]["examples"][0])
    body = event["payload"]
    if ts is not None:
        body["timestamp"] = ts
    if sid is not None and "session_id" in body:
        body["session_id"] = sid
    for name, value in payload.items():
        if name.startswith("_"):
            event[name[1:]] = value
        elif value is DROP:
            body.pop(name, None)
        else:
            body[name] = value
    if "_id" not in payload:
        event["id"] = f"{webhook_type}-{body.get('session_id')}-{body.get('timestamp')}"
    return event


@pytest.fixture(scope="session")
def webhook() -> Callable[..., dict[str, Any]]:
    """``webhook(type, ts=, sid=, **payload)``: a valid documented delivery, overridden."""
    return make_webhook


@pytest.fixture(scope="session")
def wdrop() -> object:
    return DROP


@pytest.fixture(scope="session")
def webhook_types() -> tuple[str, ...]:
    return WEBHOOK_TYPES
