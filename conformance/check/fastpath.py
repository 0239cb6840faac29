"""The fast path: proving in one pass over its bytes that a line is a valid telephony event.

Most lines of a capture are valid events, written compactly by ``JSON.stringify`` with
``action`` first. The exact path spends three passes on each of them: orjson parses the
line, a second pass proves it repeats no key (:mod:`.syntax`), and jsonschema-rs validates
the dict. msgspec instead decodes the bytes straight into typed structs, checking types,
required fields and patterns as it goes, in about the time of the parse alone.

The structs are compiled from the schema files (the single source of truth), and the fast
path may only ever say "valid": it never finds anything. Whenever it cannot prove the exact
path's verdict it *declines*, and the line takes the exact path as if the fast path did not
exist. It accepts a line only when all of these hold:

* msgspec decodes it into the struct of its ``action``. The structs are *narrower* than the
  schemas, never wider: an unknown extra field, a ``null`` for an optional field, a
  ``sipHeaders`` value that is not a string, integer, boolean or ``null``, or a schema
  keyword this compiler does not know all make msgspec (or the compiler) refuse, and the
  line is left to the validators that implement the whole schema;
* the line holds no backslash: with no escapes, its strings are the bytes they decode to,
  for msgspec as for orjson;
* re-encoding the struct gives exactly as many bytes as the line, less trailing white
  space. msgspec keeps the last of two equal keys, so a line with a repeated key, or with
  white space between tokens, is longer than its re-encoding and is declined: that proves
  there is no duplicate key without a second parse;
* its strings match their schema patterns. The same few values (a room's SIP endpoint, a
  bot's numbers) recur on every line, so each distinct value is matched once per struct
  type, and a bounded set remembers the ones that matched.

A test holds the two paths to the same output, line for line, on generated valid and
broken events, and another proves each accepted line valid with the exact validator.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from ..schemas import load_schemas, python_schema, validity_keywords
from ..surfaces import ACTIONS, event_schema_file
from .records import RECORD_FIELDS, STRING_LIMIT, Record, fields_record

#: Every line the fast path may accept starts with this: ``action`` first, and a telephony one.
PREFIX = b'{"action":"dial'

class Unsupported(Exception):
    """A schema uses a keyword (or a shape) the compiler does not turn into a msgspec type."""


#: How a struct type's patterned strings are checked: ``(getter, patterns, values that matched)``.
#: The getter (an ``itemgetter``) takes the struct's values and returns its one patterned
#: value, or a tuple of them.
Patterned = tuple[Callable[[tuple[Any, ...]], Any], tuple[re.Pattern[str], ...], set[Any]]

#: What the fast path says of a valid event that belongs to no session (``dialin-ready``, a
#: session-less ``dialout-error``): there is no record to hand on.
SESSIONLESS: Record = []

#: ``accept(raw, line, escaped)``: the record of line number ``line`` when the fast path
#: proves ``raw`` a valid event of a session, :data:`SESSIONLESS` when it proves it a valid
#: event of none, and ``None`` when it declines (the line then takes the exact path).
#: ``escaped=False`` promises that ``raw`` holds no backslash.
Accept = Callable[[bytes, int, bool], Any]


@dataclass(frozen=True)
class FastPath:
    """The compiled fast path: :meth:`acceptor` gives its rule, as a function of one line;
    ``action_of[struct type]`` is the action of a struct, and ``values(struct)`` its field
    values, its :data:`~.records.RECORD_FIELDS` first."""

    decode: Callable[[bytes], Any]
    encode_into: Callable[[Any, bytearray], None]
    errors: tuple[type[BaseException], ...]
    action_of: dict[type, str]
    values: Callable[[Any], tuple[Any, ...]]
    #: Per struct type with patterned strings: how to get them, their patterns, and the values
    #: that matched them so far.
    patterned: dict[type, Patterned]

    @property
    def actions(self) -> frozenset[str]:
        """The actions that have a struct (all ten, unless a schema is unsupported)."""
        return frozenset(self.action_of.values())

    def acceptor(
        self,
        proven: list[str] | None = None,
        values_of: dict[type, list[Any]] | None = None,
        full: Callable[[type, list[Any]], None] | None = None,
    ) -> Accept:
        """The fast path's rule (see :data:`Accept`). The action of each line it proves is
        appended to ``proven``, for counting; with ``values_of`` (a list per struct type, see
        :meth:`value_lists`), its struct's values too, one after the other, for the field
        counts of coverage (:mod:`.coverage`); ``full(struct type, its list)`` is called, to count
        and empty it, whenever a list holds :data:`KEPT_VALUES` values or more: counted while
        they are still in the processor's cache, the values cost less to count and to free.

        A fresh one for each check: it re-encodes each line into a buffer of its own.
        """
        decode, declined, encode_into, patterned = self.decode, self.errors, self.encode_into, self.patterned
        action_of, astuple = self.action_of, self.values
        count = (proven if proven is not None else []).append
        # One look-up for a struct's action and, with coverage, where its values go.
        kinds = {kind: (action, None if values_of is None else values_of[kind]) for kind, action in action_of.items()}
        kept_values = KEPT_VALUES
        buffer = bytearray()

        def accept(raw: bytes, line: int, escaped: bool) -> Any:
            if raw[:_PREFIXED] != PREFIX:
                return None
            try:
                struct = decode(raw)
            except declined:
                return None
            encode_into(struct, buffer)
            size = len(buffer)
            # A re-encoding is never longer than its line, so one as long as the line proves
            # there is no trailing white space without a stripped copy.
            if (size != len(raw) and size != len(raw.rstrip())) or (escaped and raw.find(b"\\") >= 0):
                return None
            kind = type(struct)
            values = astuple(struct)
            if kind in patterned:
                check = patterned[kind]
                matched = check[0](values)
                if matched not in check[2] and not remember_match(matched, check):
                    return None
            action, kept = kinds[kind]
            count(action)
            if kept is not None:
                kept.extend(values)
                if len(kept) >= kept_values:
                    full(kind, kept)  # type: ignore[misc]
            if values[1] is None:  # no sessionId
                return SESSIONLESS
            return fields_record(line, action, values)

        return accept

    def value_lists(self) -> dict[type, list[Any]]:
        """An empty list per struct type, for :meth:`acceptor`'s ``values_of``: its lines' values
        end to end, so that one field's values are a slice (``[index::width]``)."""
        return {kind: [] for kind in self.action_of}

    def accept(self, raw: bytes) -> Any:
        """What :meth:`acceptor`'s rule says of one line, as line 1."""
        return self.acceptor()(raw, 1, True)


_PREFIXED = len(PREFIX)
#: With coverage, a struct type's kept values are counted once they are this many (a few
#: hundred lines' worth, about 100 KiB of objects: still in the processor's cache).
KEPT_VALUES = 2048
#: At most this many patterned values are remembered; then the memory starts again.
MATCHED_MEMORY = 4096


def remember_match(values: Any, check: Patterned) -> bool:
    """Match ``values``, the getter's (``None``: absent), against their patterns; remember them
    when they match."""
    _, patterns, matched = check
    each = values if len(patterns) > 1 else (values,)
    if not all(value is None or pattern.search(value) for value, pattern in zip(each, patterns, strict=True)):
        return False
    if len(matched) >= MATCHED_MEMORY:
        matched.clear()
    matched.add(values)
    return True


def _decline(*_: Any) -> Any:
    raise Unsupported("no schema compiles to a struct")


#: The fast path when no schema compiles: it declines every line.
DECLINE_ALL = FastPath(
    decode=_decline,
    encode_into=_decline,
    errors=(Unsupported,),
    action_of={},
    values=tuple,
    patterned={},
)


@functools.cache
def fast_path() -> FastPath | None:
    """The fast path for the ten client events, built once per process; ``None`` when no
    action's schema can be compiled (the exact path then checks every line)."""
    import msgspec

    structs: list[type] = []
    action_of: dict[type, str] = {}
    patterned: dict[type, Patterned] = {}
    for action in ACTIONS:
        patterns: dict[str, str] = {}
        try:
            struct = struct_for(action, load_schemas()[event_schema_file(action)], patterns)
        except Unsupported:
            continue  # this action always takes the exact path
        structs.append(struct)
        action_of[struct] = action
        if patterns:
            names = tuple(patterns)
            order: tuple[str, ...] = struct.__struct_fields__  # type: ignore[attr-defined]
            where = itemgetter(*(order.index(name) for name in names))
            patterned[struct] = (where, tuple(re.compile(patterns[name]) for name in names), set())
    if not structs:
        return None
    decoder = msgspec.json.Decoder(Union[tuple(structs)])  # noqa: UP007
    return FastPath(
        decode=decoder.decode,
        encode_into=msgspec.json.Encoder().encode_into,
        # UnicodeDecodeError (a ValueError) is how msgspec reports invalid UTF-8 in a string.
        errors=(msgspec.MsgspecError, ValueError),
        action_of=action_of,
        values=msgspec.structs.astuple,
        patterned=patterned,
    )


def struct_for(action: str, schema: dict[str, Any], patterns: dict[str, str] | None = None) -> type:
    """The msgspec struct of one event schema, tagged by ``action``; raises :class:`Unsupported`.

    With ``patterns``, the struct leaves its top-level string patterns unchecked and puts
    them there instead (field name to pattern), for :meth:`FastPath.acceptor` to match once
    per distinct value."""
    import msgspec

    node = python_schema(schema)
    if _keywords(node) != {"type", "required", "properties"} or node["type"] != "object":
        raise Unsupported(f"an event schema must be an object with properties, not {sorted(_keywords(node))}")
    properties: dict[str, Any] = node["properties"]
    required = set(node.get("required", ()))
    tag: Any = properties.get("action")
    if _keywords(tag) != {"const"} or tag["const"] != action or "action" not in required:
        raise Unsupported("'action' must be a required const naming the event")
    fields: list[Any] = []
    for name, sub in properties.items():
        if name == "action":
            continue  # the tag
        kind = _type_of(sub)
        if patterns is not None and get_origin(kind) is Annotated and get_args(kind)[0] is str:
            patterns[name] = get_args(kind)[1].pattern
            kind = str
        if name in RECORD_FIELDS:
            kind = _bounded(kind)
        fields.append((name, kind) if name in required else (name, kind, None))
    # A record field the schema does not declare must be absent (a value of any shape would
    # be an unknown extra field: valid, but never part of a record): typed `None`, so any
    # value makes msgspec decline, and an explicit null is caught by the length proof.
    for name in RECORD_FIELDS:
        if name not in properties:
            fields.append((name, None, None))
    # The record fields first, in their order: a struct's values (astuple) begin with its record.
    fields.sort(key=lambda field: RECORD_FIELDS.index(field[0]) if field[0] in RECORD_FIELDS else len(RECORD_FIELDS))
    return msgspec.defstruct(
        "".join(part.title() for part in action.split("-")),
        fields,
        kw_only=True,  # required and optional fields in any order
        tag_field="action",
        tag=action,
        forbid_unknown_fields=True,
        omit_defaults=True,  # absent optional fields (None) are not re-encoded
        gc=False,  # decoded JSON cannot form reference cycles
        module=__name__,
    )


def _type_of(node: Any) -> Any:
    """The msgspec type of one property schema (Python dialect, ``$ref``s inlined)."""
    import msgspec

    keys = _keywords(node)
    if node.get("type") == "string" and keys <= {"type", "pattern"}:
        return _string(node.get("pattern"))
    if keys == {"anyOf"} and all(_is_string(branch) for branch in node["anyOf"]):
        patterns = [branch.get("pattern") for branch in node["anyOf"]]
        if None in patterns:
            return str
        return _string("|".join(f"(?:{p})" for p in patterns))
    if keys == {"enum"} and node["enum"] and all(v is None or isinstance(v, str) for v in node["enum"]):
        strings = tuple(v for v in node["enum"] if v is not None)
        kind: Any = Literal[strings] if strings else None
        return Union[kind, None] if None in node["enum"] else kind  # noqa: UP007
    if node.get("type") == "object" and keys == {"type"}:
        # Any object is valid; the fast path takes the plain JSON values a header map holds.
        # Floats stay out (orjson and msgspec may round an overflowing one differently), and
        # integers to int64 (orjson reads integers past 64 bits as floats).
        whole = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
        return dict[str, Union[str, whole, bool, None]]  # noqa: UP007
    if node.get("type") == "object" and keys == {"type", "additionalProperties"}:
        return dict[str, _type_of(node["additionalProperties"])]  # type: ignore[misc]
    if node.get("type") == "object" and keys == {"type", "properties"}:
        # A nested object: its named properties, each optional; anything else declines.
        fields = [(name, _type_of(sub), None) for name, sub in node["properties"].items()]
        return msgspec.defstruct(
            "Nested", fields, forbid_unknown_fields=True, omit_defaults=True, gc=False, module=__name__
        )
    raise Unsupported(f"schema keywords {sorted(keys)}")


def _bounded(kind: Any) -> Any:
    """A record field's type with its strings held to :data:`~.records.STRING_LIMIT`
    characters: a longer one becomes a stand-in in its record, which only the exact path
    builds, so the fast path declines it."""
    import msgspec

    limit = msgspec.Meta(max_length=STRING_LIMIT)
    if kind is str:
        return Annotated[str, limit]
    if get_origin(kind) is Annotated and get_args(kind)[0] is str:
        return Annotated[(str, *get_args(kind)[1:], limit)]
    return kind


def _keywords(node: Any) -> set[str]:
    """The keywords of a schema that bear on validity; a schema that is not an object has none
    the compiler can use."""
    if not isinstance(node, dict):
        raise Unsupported(f"schema {node!r}")
    return validity_keywords(node)


def _is_string(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") == "string" and _keywords(node) <= {"type", "pattern"}


def _string(pattern: str | None) -> Any:
    import msgspec

    # msgspec, like jsonschema, applies a pattern with re.search.
    return str if pattern is None else Annotated[str, msgspec.Meta(pattern=pattern)]
