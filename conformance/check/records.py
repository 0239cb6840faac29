"""What the line stage hands the session check: one item per line that matters to sessions.

A **record** is an event of a call session, as a flat list of JSON values (cheap to build
for each of millions of lines, to send back from a worker process with ``marshal``, and
for the garbage collector to leave alone)::

    [line, action, callClientId, sessionId, sipCallId, destination, origin, provider]

The last four are the call's identity (:data:`~conformance.surfaces.IDENTITY_FIELDS`) as
the event carries it: ``None`` for a field it lacks or its schema does not declare (only
declared fields can be compared, L305). The session check unpacks a record in that order.

Two other kinds of item travel in the same stream, in line order:

* a **lost record**, ``[line, None, callClientId or None, sessionId, None, None, None, None]``,
  for a line that
  names a session id but cannot be checked as its event (not JSON, an unknown telephony
  action, no action): that session may have lost its start there (L301, L302);
* a **webhook item**, the tuple ``(line, delivery)``, for a webhook delivery, which the
  webhook stage checks whole, ordered by event time (:mod:`.webhooks`).

Records are lists, webhook items tuples, so a consumer tells them apart by type; all of
them are plain data that ``marshal`` sends between processes at any nesting depth.

Findings of the line stage travel in the same stream too.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import re
from collections.abc import Collection
from typing import Any

from ..findings import bounded_repr, quoted
from ..schemas import event_schemas
from ..surfaces import HANDLER_METHODS, IDENTITY_FIELDS

#: A record, as described in the module docstring.
Record = list[Any]

#: Where a record holds each part, for code that picks records or moves them down a capture
#: (the hot loops unpack a record instead); the identity fields follow from ``IDENTITY`` on.
LINE, ACTION, CLIENT, SESSION_ID, IDENTITY = range(5)

#: The event fields a record holds, in order: what the fast path reads off a struct
#: (:mod:`.fastpath`), which keeps them first among its fields.
RECORD_FIELDS: tuple[str, ...] = ("callClientId", "sessionId", *IDENTITY_FIELDS)


#: A webhook delivery at a line of the capture: ``(line, delivery)``.
WebhookItem = tuple[int, dict[str, Any]]

#: A string of a record (a call client, a session id, an identity field) longer than this is
#: kept as a stand-in (:func:`_stand_in`): a session keeps the strings of its first event for
#: as long as it is open, and a capture must not make that memory grow with its values. The
#: fast path declines longer strings (:mod:`.fastpath`), so that both paths build one record.
STRING_LIMIT = 256


def fields_record(line: int, action: str, fields: Any) -> Record:
    """The record of a valid event of a session from its :data:`RECORD_FIELDS` values, in
    that order (a sequence that may go on with other values)."""
    return [line, action, fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]]


@functools.cache
def record_keys() -> dict[str, tuple[Any, ...]]:
    """Per event name (an action, or a daily-python handler), the keys that fill a record's
    identity: the identity fields the action's schema declares, and ``0`` for the others.
    ``0`` is never a JSON object's key, so that value reads ``None``: an unknown extra field
    of any shape never reaches a record."""
    out = {}
    for action, es in event_schemas().items():
        keys = tuple(name if name in es.documented else 0 for name in IDENTITY_FIELDS)
        out[action] = out[HANDLER_METHODS[action]] = keys
    return out


def session_record(
    line: int, action: str, event: dict[str, Any], wrong: Collection[str] = (), *, valid: bool = False
) -> Record | None:
    """The record of one event of ``action``, or ``None`` for an event of no session
    (``dialin-ready``, a session-less ``dialout-error``/``-warning``).

    An event that is not ``valid`` may carry an array or an object as its ``callClientId``
    or an identity field (S202): that value is kept as its :func:`_stand_in`, since a list
    cannot key a session, and comparing or printing a value nested a thousand levels deep
    would exhaust Python's recursion limit. An identity field named in ``wrong`` (the
    pointers of the event's S202 and S203 findings) is left out, as if absent: that line has
    its finding, and a session that took the broken value as its own would flag each of its
    correct events (L305).
    """
    session_id = event.get("sessionId")
    if type(session_id) is not str:
        return None
    get = event.get
    keys = record_keys()[action]
    if wrong:
        keys = tuple(0 if f"/{key}" in wrong else key for key in keys)  # 0 is no key: absent
    k4, k5, k6, k7 = keys
    record = [line, action, get("callClientId"), session_id, get(k4), get(k5), get(k6), get(k7)]
    if not valid:
        for index in _CONTAINER_SLOTS:
            if type(record[index]) in _CONTAINERS:
                record[index] = _stand_in(record[index])
    return record


def daily_python_client(client: Any) -> tuple[str, Any]:
    """The call client of a daily-python line's session: its ``client`` (when a string), marked
    as daily-python's, so that its sessions never meet a daily-js client's."""
    if type(client) is not str:
        return ("daily-python", None)
    return ("daily-python", client if len(client) <= STRING_LIMIT else _stand_in(client))


def bound_strings(record: Record) -> Record:
    """``record`` with each string longer than :data:`STRING_LIMIT` replaced by its stand-in."""
    for index in _STRING_SLOTS:
        value = record[index]
        if type(value) is str and len(value) > STRING_LIMIT:
            record[index] = _stand_in(value)
    return record


def named(session_id: Any) -> str:
    """A record's session id as a message names it: a stand-in by the cut text it carries."""
    return session_id[0] if type(session_id) is tuple else session_id  # type: ignore[no-any-return]


def daily_python_record(
    line: int, handler: str, recorded: dict[str, Any], wrong: Collection[str] = (), *, valid: bool = False
) -> Record | None:
    """The record of a daily-python line (``{"handler", "data", "client"}``) whose ``handler`` is
    one of the ten, from its data; ``wrong`` are the pointers of its findings (``/data/…``)."""
    data = recorded.get("data")
    if type(data) is not dict:
        return None  # on_dialin_ready's SIP endpoint, or a broken line: no session
    view = {**data, "callClientId": daily_python_client(recorded.get("client"))}
    wrong = {pointer.removeprefix("/data") for pointer in wrong if pointer.startswith("/data/")}
    record = session_record(line, handler, view, wrong, valid=valid)
    return None if record is None else bound_strings(record)


def lost_record(line: int, client: Any, session_id: str) -> Record:
    """The lost record of a line that names ``session_id`` (and ``client``, when it names one
    as a string, or a daily-python client) but could not be checked as its event."""
    client = client if type(client) in (str, tuple) else None
    return bound_strings([line, None, client, session_id, None, None, None, None])


#: A session id and a call client in the text of a line that is not JSON (no escapes: a best effort).
_SESSION_ID = re.compile(rb'"sessionId"[ \t]*:[ \t]*"([^"\\]*)"')
_CLIENT = re.compile(rb'"callClientId"[ \t]*:[ \t]*"([^"\\]*)"')
_PYTHON_CLIENT = re.compile(rb'"client"[ \t]*:[ \t]*"([^"\\]*)"')


def lost_record_in_text(line: int, raw: bytes, daily_python: bool = False) -> Record | None:
    """The lost record of a line that is not a JSON object but names a session id in its text
    (and, in a daily-python line, its data)."""
    found = _SESSION_ID.search(raw)
    if found is None:
        return None
    client = (_PYTHON_CLIENT if daily_python else _CLIENT).search(raw)
    name = client.group(1).decode("utf-8", "replace") if client else None
    return lost_record(
        line,
        daily_python_client(name) if daily_python and name is not None else name,
        found.group(1).decode("utf-8", "replace"),
    )


_CONTAINERS = (list, dict)
_CONTAINER_SLOTS = (CLIENT, *range(IDENTITY, IDENTITY + len(IDENTITY_FIELDS)))
_STRING_SLOTS = (CLIENT, SESSION_ID, *range(IDENTITY, IDENTITY + len(IDENTITY_FIELDS)))


def _stand_in(value: str | list[Any] | dict[str, Any]) -> tuple[str, str]:
    """What a record holds for an array or object (``callClientId`` or an identity field of
    the wrong type, S202), or for a string longer than :data:`STRING_LIMIT`:
    ``(text cut short, digest of the whole value)``.

    Hashable, so it can key a session; never equal to a string, nor to the stand-in of a
    different value, even when the two texts are cut short the same way. ``marshal`` writes
    any value orjson can read (1,024 levels) without recursion limits.
    """
    shown = quoted(value) if type(value) is str else bounded_repr(value)
    return shown, hashlib.blake2b(marshal.dumps(value), digest_size=16).hexdigest()


def shown(value: Any) -> str:
    """A record's value as a finding quotes it: a stand-in as the bounded repr it carries."""
    return value[0] if type(value) is tuple else repr(value)
