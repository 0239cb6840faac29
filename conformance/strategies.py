"""Hypothesis strategies for Daily telephony events, built from the schemas in ``schemas/``.

Public and documented, so that users can write their own ``@given`` tests::

    from hypothesis import given
    from conformance.strategies import events, streams, broken_streams

    @given(streams())
    def test_my_handler_survives(stream):
        handler = MyHandler()
        for event in stream:
            handler.handle(event)

Values are built *by construction* from the schemas, with hypothesis's public API only:
each event schema is walked (``$ref``s resolved into ``defs.schema.json``) and every
property becomes a strategy from its ``type``/``pattern``/``enum``/``const``. A schema
change therefore changes what is generated. Realistic values (E.164 numbers, SIP URIs,
UUID-like session ids, SIP Call-IDs, daily-js callClientIds) come from :data:`REALISTIC`,
keyed by the name of the def they stand for; a pattern def with no entry there falls back to
``st.from_regex(pattern, fullmatch=True)``. hypothesis-jsonschema is not used: its latest
release calls hypothesis internals that changed in 6.170.10, and it does not read draft
2020-12 (``docs/fuzzing.md`` has the details).

What each strategy promises, checked by ``tests/fuzz/test_strategies.py``:

* :func:`events` – one valid event. Alone it is a capture that begins mid-call, so the
  checker finds no error in it under ``--partial``.
* :func:`streams` – a whole valid capture: the checker finds nothing in it (no error, no
  warning) with the default options.
* :func:`broken_events` / :func:`broken_streams` – a :class:`Broken` value whose events
  fail the checker on exactly the rule it is labelled with (and no other error rule).
"""

from __future__ import annotations

import functools
import random
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from .schemas import ACTIONS, DEFS_SCHEMA, event_schemas, load_schemas
from .surfaces import IDENTITY_FIELDS

__all__ = [
    "BROKEN_EVENT_RULES",
    "BROKEN_STREAM_RULES",
    "NON_TELEPHONY_ACTIONS",
    "REALISTIC",
    "REALISTIC_PATTERNS",
    "Broken",
    "broken_events",
    "broken_streams",
    "events",
    "json_values",
    "streams",
]

Event = dict[str, Any]
Strategy = st.SearchStrategy

#: Rules a single broken event violates (checked as a one-line capture under ``--partial``).
BROKEN_EVENT_RULES: tuple[str, ...] = ("C109", "S201", "S202", "S203", "S204")
#: Rules a broken stream violates (checked with the default options). L301 is a warning.
BROKEN_STREAM_RULES: tuple[str, ...] = ("L301", "L302", "L303", "L304", "L305", "L306")

#: daily-js events that are not telephony events; streams mix them in, the checker skips them.
NON_TELEPHONY_ACTIONS: tuple[str, ...] = (
    "joined-meeting",
    "participant-joined",
    "participant-updated",
    "participant-left",
    "app-message",
    "transcription-message",
    "recording-started",
    "nonfatal-error",
    "left-meeting",
)


@dataclass(frozen=True)
class Broken:
    """Events that break exactly one rule, labelled with that rule.

    Arguments:
        rule: the rule id the events violate (``S201``, ``L303`` …, see ``conformance.rules``).
        events: the events in delivery order (one for :func:`broken_events`).
        description: what was broken, in words (``"dialin-stopped delivered twice"``).
    """

    rule: str
    events: list[Event]
    description: str = field(default="")


# --- realistic values, keyed by def name -------------------------------------------------
def json_values() -> Strategy[Any]:
    """Any JSON value: null, booleans, numbers JavaScript holds exactly, strings, arrays, objects.

    Arrays and objects are one level deep: deeper nesting finds nothing more in a consumer
    of telephony events, and ``st.recursive`` costs several times as much to draw.
    """
    return _JSON_VALUES


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
_JSON_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=10), _SCALARS, max_size=3),
)


_COUNTRY_CODES = ("1", "44", "33", "49", "61", "81", "91", "55", "353", "972")
_HOSTS = ("sip.daily.co", "daily-2358023-app.dapp.signalwire.com", "example.com", "pbx.example.org:5061", "10.0.0.7")
_DIGITS = "0123456789"
_HEX = "0123456789abcdef"

# Generation speed matters (the benchmark's target is 1,000 events/s on one core, and a
# hypothesis draw costs 40-90 µs): each realistic value is ONE draw from a pool built once,
# at import, from a fixed seed. A pool's first entry is the documented example, so values
# shrink to it; the pools also hold odd-but-valid values (an empty session id, a two-digit
# E.164 number, a SIP URI with no '@'), because the schema allows them and consumers meet them.
_RNG = random.Random(20240601)


def _pool(
    first: Sequence[str], make: Callable[[random.Random], str], n: int = 48, odd: Sequence[str] = ()
) -> list[str]:
    out = list(dict.fromkeys([*first, *(make(_RNG) for _ in range(n)), *odd]))
    return out


def _make_e164(r: random.Random) -> str:
    cc = r.choice(_COUNTRY_CODES)
    return "+" + cc + "".join(r.choice(_DIGITS) for _ in range(r.choice((10, 10, 9, 11)) - len(cc) + 1))


def _make_sip_uri(r: random.Random) -> str:
    user = r.choice(("room-name", "myroom.0", "callee", "bot_7", "alice", _make_e164(r)))
    params = r.choice(("", "", ";transport=tcp", ";user=phone", ";transport=tls;lr"))
    return f"{r.choice(('sip', 'sip', 'sips', 'SIP'))}:{user}@{r.choice(_HOSTS)}{params}"


_E164 = _pool(["+12098888888", "+13977888822"], _make_e164, odd=["+10", "+999999999999999", "+4420"])
_SIP_URIS = _pool(
    ["sip:room-name@sip.daily.co", "sip:callee@example.com", "sip:myroom.0@daily-2358023-app.dapp.signalwire.com"],
    _make_sip_uri,
    odd=["sIpS:x", "sip:üser@hôst.example", "sip:+12098888888@10.0.0.7;user=phone", "sip:room%20name@h", "sips:a"],
)
_UUIDS = _pool(
    ["a64d30f4-5216-4481-a2ef-515d6dd7dfc6", "7d208e2a-520b-4a8d-a2c9-3a36dfa0d342"],
    lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    n=64,
)
_ODD_IDS = ["", "0", "session id with spaces", "ünïcødé-☎", "x" * 80]
_CALL_CLIENT_IDS = _pool(
    ["17225364729060.9442072768918943"],
    lambda r: f"{r.randrange(10**13, 10**14)}.{r.randrange(10**15, 10**16)}",
    n=32,
    odd=["", "1"],
)
_SIP_CALL_IDS = _pool(
    ["abc123@sip.daily.co"],
    lambda r: r.choice((f"{r.getrandbits(64):x}@{r.choice(_HOSTS)}", str(uuid.UUID(int=r.getrandbits(128))))),
    odd=["", "a84b4c76e66710@pc33.atlanta.com", "Call-ID with spaces"],
)
_SIP_FROMS = _pool(
    ["sip:caller@example.com", '"Bob" <sip:bob@biloxi.example.com>;tag=a6c85cf'],
    lambda r: r.choice((_make_sip_uri(r), _make_e164(r), f'"Caller" <{_make_sip_uri(r)}>;tag={r.getrandbits(32):x}')),
    n=24,
    odd=["", "anonymous"],
)
_HEADER_NAMES = ("X-Daily-Room", "X-Customer-Id", "User-Agent", "From", "To", "P-Asserted-Identity", "X-Retry", "x")
_HEADER_TEXT = ("daily-room-1", "Twilio Gateway", "<sip:+12098888888@10.0.0.7>", "", "42")


def _e164() -> Strategy[str]:
    return st.sampled_from(_E164)


def _sip_uri() -> Strategy[str]:
    return st.sampled_from(_SIP_URIS)


def _header_names() -> Strategy[str]:
    return st.sampled_from(_HEADER_NAMES)


def _sip_headers() -> Strategy[dict[str, Any]]:
    # D19: dial-in sipHeaders values may be of any JSON type; a consumer must not assume strings.
    return st.dictionaries(_header_names(), st.one_of(st.sampled_from(_HEADER_TEXT), json_values()), max_size=4)


def _mostly(realistic: Strategy[Any], other: Strategy[Any]) -> Strategy[Any]:
    """``realistic`` three times in four, ``other`` otherwise: real shapes first, odd ones too."""
    return st.one_of(realistic, realistic, realistic, other)


#: Realistic value strategies keyed by the def name in ``defs.schema.json``; each value must
#: be valid under its def. A def with no entry gets the plain schema-driven generator.
REALISTIC: dict[str, Callable[[], Strategy[Any]]] = {
    "e164": _e164,
    "sipUri": _sip_uri,
    "callClientId": lambda: st.sampled_from(_CALL_CLIENT_IDS),
    "sessionId": lambda: st.sampled_from([*_UUIDS, *_ODD_IDS]),
    "sipCallId": lambda: st.sampled_from(_SIP_CALL_IDS),
    "provider": lambda: st.sampled_from(("daily", "signalwire", "twilio", "")),
    "userId": lambda: st.sampled_from(["user_123", "bot", "", "ユーザー", *_UUIDS[:8]]),
    "actionTraceId": lambda: st.sampled_from([*_UUIDS[8:24], ""]),
    "errorMsg": lambda: st.sampled_from(
        (
            "SDP negotiation failed",
            "DialOut failed with error: process error, Channel closed",
            "Requested codec unavailable, using fallback",
            "",
            "Erreur: délai dépassé ☎",
        )
    ),
    "sipFrom": lambda: st.sampled_from(_SIP_FROMS),
    "callerId": lambda: st.sampled_from([*_E164[:12], *_UUIDS[24:32]]),
    "sipHeaders": _sip_headers,
}

#: The pattern each realistic generator of a pattern def was written for. When the schema's
#: pattern differs (the schema changed), the realistic generator is not used and values come
#: from ``st.from_regex`` of the new pattern alone, so generated values stay valid.
REALISTIC_PATTERNS: dict[str, str] = {
    "e164": r"^\+[1-9][0-9]{1,14}$",
    "sipUri": r"^[sS][iI][pP][sS]?:[^ \t\r\n]+$",
}


# --- walking the schemas -----------------------------------------------------------------
def _resolve(schema: dict[str, Any], doc: str) -> tuple[dict[str, Any], str, str | None]:
    """``(schema, document, def name)`` after following ``$ref`` (one level at a time)."""
    name = None
    while "$ref" in schema:
        target, _, pointer = schema["$ref"].partition("#")
        doc = target or doc
        node: Any = load_schemas()[doc]
        for part in [p for p in pointer.split("/") if p]:
            node = node[part]
        if doc == DEFS_SCHEMA and pointer.startswith("/$defs/"):
            name = pointer.rsplit("/", 1)[-1]
        schema = node
    return schema, doc, name


def _python_pattern(pattern: str) -> re.Pattern[str]:
    # ECMA-262 '$' is end of input; Python's also matches before a final newline (see schemas.py).
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _value(schema: dict[str, Any], doc: str, hint: str = "") -> Strategy[Any]:
    """A strategy for values valid under ``schema`` (a property schema, possibly a ``$ref``)."""
    schema, doc, def_name = _resolve(schema, doc)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if "anyOf" in schema:
        return st.one_of([_value(s, doc, hint) for s in schema["anyOf"]])
    typ = schema.get("type")
    plain = _by_type(schema, doc, hint)
    if def_name in REALISTIC and typ is not None and schema.get("pattern") == REALISTIC_PATTERNS.get(def_name):
        return REALISTIC[def_name]()
    if hint == "sipHeaders" and typ == "object" and "additionalProperties" in schema:
        values = _value(schema["additionalProperties"], doc)
        return st.dictionaries(_header_names(), values, max_size=4)
    return plain


def _by_type(schema: dict[str, Any], doc: str, hint: str) -> Strategy[Any]:
    typ = schema.get("type")
    if isinstance(typ, list):
        return st.one_of([_by_type({**schema, "type": t}, doc, hint) for t in typ])
    if typ == "string":
        if "pattern" in schema:
            return st.from_regex(_python_pattern(schema["pattern"]), fullmatch=True)
        return st.text(max_size=40)
    if typ == "object":
        return _object(schema, doc)
    if typ == "array":
        items = schema.get("items")
        return st.lists(_value(items, doc) if isinstance(items, dict) else json_values(), max_size=4)
    if typ == "integer":
        return st.integers(min_value=-(2**53), max_value=2**53)
    if typ == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if typ == "boolean":
        return st.booleans()
    if typ == "null":
        return st.none()
    return json_values()


def _object(
    schema: dict[str, Any], doc: str, extras: Strategy[dict[str, Any]] | None = None
) -> Strategy[dict[str, Any]]:
    """Objects with the required properties and none, all or some of the optional ones.

    Three variants, each about a third of the draws, so that every one turns up often: only
    the required fields (where values shrink to), every field, and a mix.
    """
    props: dict[str, Any] = schema.get("properties", {})
    required = [(p, _value(props[p], doc, p)) for p in schema.get("required", []) if p in props]
    optional = [(p, _value(s, doc, p)) for p, s in props.items() if p not in dict(required)]
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict) and not props:
        return st.dictionaries(st.text(max_size=12), _value(additional, doc), max_size=4)
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


def _with_extras(event: dict[str, Any], extras: dict[str, Any]) -> dict[str, Any]:
    for name, value in extras.items():
        event.setdefault(name, value)
    return event


@functools.cache
def _known_fields() -> frozenset[str]:
    """Every property name any event schema uses: an extra field must not be one of them
    (an extra ``destination`` on a dial-in event would take part in the L305 identity check)."""
    names = {"action"}
    for es in event_schemas().values():
        names |= es.documented
        for nested in es.nested_documented.values():
            names |= nested
    return frozenset(names)


_EXTRA_NAMES = ("displayName", "participantId", "timestamp", "region", "codec", "retryCount", "meta", "x", "_internal")


@functools.cache
def _extra_fields() -> Strategy[dict[str, Any]]:
    """Unknown fields, as an event from a newer Daily would carry (D6, D20, D24)."""
    names = [n for n in _EXTRA_NAMES if n not in _known_fields()]
    some = st.dictionaries(st.sampled_from(names), json_values(), min_size=1, max_size=2)
    return st.one_of(st.just({}), some)


@functools.cache
def _event_strategy(action: str) -> Strategy[Event]:
    schema = event_schemas()[action].schema
    return _object(schema, f"{action}.schema.json", extras=_extra_fields())


def events(action: str | Sequence[str] | None = None) -> Strategy[Event]:
    """Valid telephony events of one action, of several, or of any of the ten.

    Each is built from its schema: only the required fields, every field, or a mix; ``null``
    where the schema allows it (``dialin-error.type``); sometimes unknown extra fields; and
    ``sipHeaders`` values of every JSON type. Values are realistic (E.164 numbers and SIP
    URIs in both ``destination`` forms, UUID session ids, SIP Call-IDs) with odd-but-valid
    ones mixed in.

    A single event is what a consumer sees when it joins mid-call: the checker finds no
    error in it under ``--partial`` (a lone ``dialin-stopped`` is a start-less stop otherwise).
    """
    if action is None:
        chosen: Sequence[str] = ACTIONS
    elif isinstance(action, str):
        chosen = (action,)
    else:
        chosen = tuple(action)
    unknown = [a for a in chosen if a not in ACTIONS]
    if unknown:
        raise ValueError(f"not a telephony action: {', '.join(unknown)} (known: {', '.join(ACTIONS)})")
    if len(chosen) == 1:
        return _event_strategy(chosen[0])
    return st.one_of([_event_strategy(a) for a in chosen])


@functools.cache
def _def_value(name: str) -> Strategy[Any]:
    return _value({"$ref": f"{DEFS_SCHEMA}#/$defs/{name}"}, DEFS_SCHEMA, name)


# --- streams -----------------------------------------------------------------------------
@dataclass
class _Session:
    """One call session of a stream being built: its key, identity and actions in order."""

    direction: str  # "in" or "out"
    client: str
    session_id: str
    identity: dict[str, Any]
    actions: list[str]


# Forced shapes for the session a broken stream mutates (None: any valid session).
_SHAPES: dict[str, dict[str, Any]] = {
    "answered": {"direction": "out", "connected": True, "answered": True},
    "ends-stopped": {"connected": True, "end": "stopped"},
    "has-middle": {"connected": True, "middle": True, "end": "any-terminal"},
    "two-events": {"connected": True, "end": "any-terminal"},
    "connected": {"connected": True},
}


@st.composite
def _session(draw: st.DrawFn, client: str, session_id: str, shape: dict[str, Any] | None = None) -> _Session:
    shape = shape or {}
    direction = shape.get("direction") or draw(st.sampled_from(("in", "out")))
    prefix = "dialin" if direction == "in" else "dialout"
    connected = shape.get("connected") or draw(st.integers(0, 4)) > 0  # most calls connect
    answered = direction == "out" and connected and (shape.get("answered") or draw(st.booleans()))
    warnings = draw(st.integers(1 if shape.get("middle") else 0, 2))
    end = shape.get("end", "any")
    if end == "any":
        end = draw(st.sampled_from(("stopped", "error", "error+stopped", "stopped+error", "open")))
    elif end == "any-terminal":
        end = draw(st.sampled_from(("stopped", "error", "error+stopped")))
    if not connected and warnings == 0 and end in ("stopped", "stopped+error", "open"):
        end = "error"  # a session's first event is never its stop (L302), and never empty
    middle = [f"{prefix}-warning"] * warnings
    if answered:
        middle.insert(draw(st.integers(0, len(middle))), "dialout-answered")  # ringing, then answered
    actions = ([f"{prefix}-connected"] if connected else []) + middle
    actions += [f"{prefix}-{kind}" for kind in end.split("+") if kind != "open"]
    identity = {"provider": draw(_def_value("provider")), "sipCallId": draw(_def_value("sipCallId"))}
    if direction == "out":
        identity["destination"] = draw(_value({"$ref": f"{DEFS_SCHEMA}#/$defs/address"}, DEFS_SCHEMA))
        identity["origin"] = draw(_value({"$ref": f"{DEFS_SCHEMA}#/$defs/address"}, DEFS_SCHEMA))
    return _Session(direction, client, session_id, identity, actions)


def _session_event(draw: st.DrawFn, session: _Session, action: str) -> Event:
    """A valid event of ``action`` for ``session``: its key and, where present, its identity."""
    event = draw(_event_strategy(action))
    event["callClientId"] = session.client
    event["sessionId"] = session.session_id
    for name in IDENTITY_FIELDS:
        if name in event:
            event[name] = session.identity[name]
    return event


@st.composite
def _session_group(draw: st.DrawFn, clients: list[str], shape: dict[str, Any] | None) -> tuple[_Session, list[Event]]:
    session = draw(_session(draw(st.sampled_from(clients)), draw(_def_value("sessionId")), shape))
    return session, [_session_event(draw, session, a) for a in session.actions]


@st.composite
def _lone_event(draw: st.DrawFn, clients: list[str], other_events: bool) -> Event:
    """``dialin-ready`` (room-scoped, L3), a session-less ``dialout-error``/``-warning`` (L12),
    or a non-telephony event."""
    kinds = ("dialin-ready", "dialout-error", "dialout-warning", *(("other",) if other_events else ()))
    kind = draw(st.sampled_from(kinds))
    if kind == "other":
        event: Event = {"action": draw(st.sampled_from(NON_TELEPHONY_ACTIONS))}
        event.update(draw(st.dictionaries(st.sampled_from(("participant", "data", "fromId", "text")), json_values())))
    else:
        event = draw(_event_strategy(kind))
        event.pop("sessionId", None)
    event["callClientId"] = draw(st.sampled_from(clients))
    return event


# One item of a stream plan: the index of its session (None for session-less events) and the event.
_Plan = list[tuple[int | None, Event]]


@st.composite
def _plan(
    draw: st.DrawFn,
    min_sessions: int,
    max_sessions: int,
    max_call_clients: int,
    other_events: bool,
    victim: dict[str, Any] | None = None,
) -> tuple[_Plan, list[_Session]]:
    """A valid stream, each event tagged with its session; session 0 has shape ``victim``."""
    n_clients = draw(st.integers(1, max_call_clients))
    clients = draw(st.lists(_def_value("callClientId"), min_size=n_clients, max_size=n_clients, unique=True))
    # Sessions are a list (not a count), so shrinking can drop any of them, not only the last.
    # Unique ids: a session id seen twice would be one session to the checker and consumers.
    first = [draw(_session_group(clients, victim))] if victim is not None else []
    rest = draw(
        st.lists(
            _session_group(clients, None),
            min_size=max(0, min_sessions - len(first)),
            max_size=max_sessions - len(first),
            unique_by=lambda g: g[0].session_id,
        )
    )
    taken = {g[0].session_id for g in first}
    chosen = first + [g for g in rest if g[0].session_id not in taken]
    sessions = [s for s, _ in chosen]
    groups: list[list[tuple[int | None, Event]]] = [[(i, e) for e in evs] for i, (_, evs) in enumerate(chosen)]
    # Room-scoped and session-less events (L3, L12), and non-telephony events.
    for event in draw(st.lists(_lone_event(clients, other_events), max_size=5)):
        groups.append([(None, event)])
    # Interleave: a permutation of group tokens, each group keeping its own order.
    tokens = draw(st.permutations([g for g, items in enumerate(groups) for _ in items]))
    cursors = [0] * len(groups)
    plan: _Plan = []
    for g in tokens:
        plan.append(groups[g][cursors[g]])
        cursors[g] += 1
    return plan, sessions


def streams(
    *, min_sessions: int = 1, max_sessions: int = 6, max_call_clients: int = 3, other_events: bool = True
) -> Strategy[list[Event]]:
    """Valid streams (whole captures) as lists of event dicts, in delivery order.

    Several dial-in and dial-out sessions interleave; each ends with ``*-stopped``, with
    ``*-error`` (sometimes followed by the other terminal event, L13) or not at all (the
    capture ended first, L18); some dial-outs are never answered. ``dialin-ready`` and
    ``dialout-error``/``-warning`` without ``sessionId`` (L12) appear, events come from one to
    ``max_call_clients`` call clients, and non-telephony events are mixed in. Within a
    session, sipCallId, destination, origin and provider never change.

    The checker finds nothing in any of them with the default options: no error, no warning.
    """
    if min_sessions < 1 or max_sessions < min_sessions:
        raise ValueError("need 1 <= min_sessions <= max_sessions (a capture needs a telephony event)")
    return _plan(min_sessions, max_sessions, max_call_clients, other_events).map(
        lambda built: [event for _, event in built[0]]
    )


# --- broken events -----------------------------------------------------------------------
def _field_schema(action: str, name: str) -> tuple[dict[str, Any], str | None]:
    schema, _, def_name = _resolve(event_schemas()[action].schema["properties"][name], f"{action}.schema.json")
    return schema, def_name


def _typed_fields(action: str) -> list[str]:
    """Fields of ``action`` with a declared JSON type (directly, or every ``anyOf`` branch)."""
    out = []
    for name in event_schemas()[action].schema["properties"]:
        schema, _ = _field_schema(action, name)
        branches = [_resolve(b, DEFS_SCHEMA)[0] for b in schema.get("anyOf", [])] or [schema]
        if all(isinstance(b.get("type"), str) for b in branches):
            out.append(name)
    return out


def _valued_fields(action: str) -> list[str]:
    """Fields of ``action`` whose strings are constrained (a pattern, an enum), not ``action``."""
    out = []
    for name in event_schemas()[action].schema["properties"]:
        schema, _ = _field_schema(action, name)
        if name != "action" and ("enum" in schema or "pattern" in schema or "anyOf" in schema):
            out.append(name)
    return out


_OTHER_TYPES: dict[str, Strategy[Any]] = {
    "string": st.one_of(
        st.integers(-(2**31), 2**31),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
        st.lists(st.text(max_size=5), max_size=2),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    ),
    "object": st.one_of(
        st.text(max_size=20),
        st.integers(-(2**31), 2**31),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
    ),
}

# Realistic mistakes: a number without '+', a tel: URI, a URI with no scheme or with a space.
_NOT_AN_ADDRESS = ("12098888888", "tel:+12098888888", "+0123456", "room-name@sip.daily.co", "sip:", "sip:a b@host", "")
_NOT_AN_ERROR_TYPE = ("failed", "START-FAILED", "start_failed", "timeout", "")
_ACTION_TYPOS = (
    "dialin_connected",
    "dialout-answerd",
    "dialin-connect",
    "dial-in-ready",
    "dialout-ringing",
    "DialIn-Stopped",
    "dialout.error",
)


@st.composite
def _broken_event(draw: st.DrawFn, rule: str) -> Broken:
    action = draw(st.sampled_from(ACTIONS))
    event = draw(_event_strategy(action))
    if rule == "C109":
        how = draw(st.sampled_from(("absent", "null", "number")))
        if how == "absent":
            del event["action"]
        else:
            event["action"] = None if how == "null" else 7
        return Broken(rule, [event], f"{action} with its action {how}")
    if rule == "S201":
        required = [f for f in event_schemas()[action].schema["required"] if f != "action"]
        name = draw(st.sampled_from(required))
        del event[name]
        return Broken(rule, [event], f"{action} without its required {name}")
    if rule == "S202":
        name = draw(st.sampled_from([f for f in _typed_fields(action) if f != "action"]))
        schema, _ = _field_schema(action, name)
        kind = "string" if "anyOf" in schema else schema["type"]
        event[name] = draw(_OTHER_TYPES[kind])
        return Broken(rule, [event], f"{action}.{name} is not {'an' if kind == 'object' else 'a'} {kind}")
    if rule == "S203":
        candidates = [a for a in ACTIONS if _valued_fields(a)]
        if action not in candidates:
            action = draw(st.sampled_from(candidates))
            event = draw(_event_strategy(action))
        name = draw(st.sampled_from(_valued_fields(action)))
        schema, _ = _field_schema(action, name)
        if "enum" in schema:
            bad = draw(st.sampled_from([v for v in _NOT_AN_ERROR_TYPE if v not in schema["enum"]]))
        else:
            patterns = [_python_pattern(_resolve(b, DEFS_SCHEMA)[0]["pattern"]) for b in schema.get("anyOf", [schema])]
            bad = draw(
                st.one_of(st.sampled_from(_NOT_AN_ADDRESS), st.text(max_size=12)).filter(
                    lambda v: not any(p.search(v) for p in patterns)
                )
            )
        event[name] = bad
        return Broken(rule, [event], f"{action}.{name} is {bad!r}, which its schema does not allow")
    if rule == "S204":
        typo = draw(st.sampled_from(_ACTION_TYPOS))
        event["action"] = typo
        return Broken(rule, [event], f"{action} sent as {typo!r}, which is not a telephony action")
    raise ValueError(f"broken_events cannot break {rule}; it breaks {', '.join(BROKEN_EVENT_RULES)}")


def broken_events(rule: str | None = None) -> Strategy[Broken]:
    """Single events that each break one rule, as :class:`Broken` values.

    ``C109`` no string ``action``; ``S201`` a required field missing; ``S202`` a field of the
    wrong JSON type; ``S203`` a value no source allows (a number without ``+``, an unknown
    ``dialin-error.type``); ``S204`` a misspelt telephony action. ``rule`` picks one of
    :data:`BROKEN_EVENT_RULES`; by default any. Checked as a one-line capture under
    ``--partial``, each fails on exactly its rule.
    """
    if rule is None:
        return st.sampled_from(BROKEN_EVENT_RULES).flatmap(_broken_event)
    if rule not in BROKEN_EVENT_RULES:
        raise ValueError(f"broken_events cannot break {rule}; it breaks {', '.join(BROKEN_EVENT_RULES)}")
    return _broken_event(rule)


# --- broken streams ----------------------------------------------------------------------
_VICTIM_SHAPE = {
    "L301": "answered",
    "L302": "ends-stopped",
    "L303": "has-middle",
    "L304": "connected",
    "L305": "two-events",
    "L306": "connected",
}


@st.composite
def _broken_stream(draw: st.DrawFn, rule: str) -> Broken:
    plan, sessions = draw(_plan(1, 4, 2, True, victim=_SHAPES[_VICTIM_SHAPE[rule]]))
    victim = sessions[0]
    at = [i for i, (s, _) in enumerate(plan) if s == 0]  # positions of the victim's events
    evs = [plan[i][1] for i in at]
    sid = victim.session_id[:8]
    out: list[Event] = [e for _, e in plan]

    def dup(event: Event) -> Event:
        return {**event}

    if rule == "L301":
        connected = at[evs.index(next(e for e in evs if e["action"] == "dialout-connected"))]
        answered = at[evs.index(next(e for e in evs if e["action"] == "dialout-answered"))]
        if draw(st.booleans()):
            del out[connected]
            what = "dialout-connected lost"
        else:
            moved = out.pop(answered)
            out.insert(connected, moved)
            what = "dialout-answered delivered before dialout-connected"
        return Broken(rule, out, f"session {sid}…: {what}")
    if rule == "L302":
        # The session's start was lost: only its final dialin/dialout-stopped remains.
        for i in reversed(at[:-1]):
            del out[i]
        return Broken(rule, out, f"session {sid}…: {evs[-1]['action']} with its earlier events lost")
    if rule == "L303":
        how = draw(st.sampled_from(("terminal twice", "late", "duplicate late")))
        first_end = next(k for k, e in enumerate(evs) if e["action"].endswith(("-stopped", "-error")))
        after = draw(st.integers(at[-1] + 1, len(out)))  # any position after the session's last event
        if how == "terminal twice":
            out.insert(after, dup(evs[-1]))
            what = f"{evs[-1]['action']} delivered twice"
        elif how == "late":
            k = draw(st.integers(1, first_end - 1))  # a middle event (the shape guarantees one)
            moved = out.pop(at[k])
            out.insert(after - 1, moved)
            what = f"{moved['action']} delivered after the session ended"
        else:
            k = draw(st.integers(0, first_end - 1))
            out.insert(after, dup(evs[k]))
            what = f"{evs[k]['action']} delivered again after the session ended"
        return Broken(rule, out, f"session {sid}…: {what}")
    if rule == "L304":
        other = "dialout" if victim.direction == "in" else "dialin"
        action = f"{other}-{draw(st.sampled_from(('connected', 'warning', 'error', 'stopped')))}"
        intruder = draw(_event_strategy(action))
        intruder["callClientId"] = victim.client
        intruder["sessionId"] = victim.session_id
        for name in IDENTITY_FIELDS:
            if name in intruder and name in victim.identity:
                intruder[name] = victim.identity[name]  # only the direction is wrong
        out.insert(draw(st.integers(at[0] + 1, len(out))), intruder)
        return Broken(rule, out, f"session {sid}… is dial-{victim.direction} but gets {action}")
    if rule == "L305":
        target = evs[1]  # at or before the session's first terminal event: still open
        names = [
            n
            for n in IDENTITY_FIELDS
            if evs[0].get(n) is not None and n in event_schemas()[target["action"]].documented
        ]
        name = draw(st.sampled_from(names))
        old = evs[0][name]
        new = draw(_def_value("address" if name in ("destination", "origin") else name).filter(lambda v: v != old))
        out[at[1]] = {**target, name: new}
        return Broken(rule, out, f"session {sid}…: {name} changes from {old!r} to {new!r} at {target['action']}")
    if rule == "L306":
        once = [
            k for k, e in enumerate(evs) if e["action"] in ("dialin-connected", "dialout-connected", "dialout-answered")
        ]
        k = draw(st.sampled_from(once))
        out.insert(at[k] + 1, dup(evs[k]))
        return Broken(rule, out, f"session {sid}…: {evs[k]['action']} delivered twice")
    raise ValueError(f"broken_streams cannot break {rule}; it breaks {', '.join(BROKEN_STREAM_RULES)}")


def broken_streams(rule: str | None = None) -> Strategy[Broken]:
    """Streams that break one lifecycle rule, as :class:`Broken` values.

    Most are delivery faults: the same event delivered twice (``L306`` for a second
    connected/answered, ``L303`` for a second stop), events out of order (answered before
    connected: ``L301``; an event after the session's end: ``L303``), a lost start
    (``L302``); and a session id used in both directions (``L304``) or a call whose
    sipCallId/destination/origin/provider changes (``L305``). The rest of the stream is
    valid, so the checker (default options) fails on exactly the labelled rule. ``L301`` is
    a warning; the others are errors.
    """
    if rule is None:
        return st.sampled_from(BROKEN_STREAM_RULES).flatmap(_broken_stream)
    if rule not in BROKEN_STREAM_RULES:
        raise ValueError(f"broken_streams cannot break {rule}; it breaks {', '.join(BROKEN_STREAM_RULES)}")
    return _broken_stream(rule)
