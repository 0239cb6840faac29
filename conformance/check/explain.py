"""Explaining what is wrong with one event: its name (S204) or its fields (S201–S203, S205).

Every schema violation becomes one :class:`~conformance.findings.Finding`, most relevant
first (missing fields, then wrong types, then bad values; shallow before deep), with a
message that names the field, what was expected and what was found. Only events that the
fast validator rejects come here (:mod:`.lines`).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import EllipsisType
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from jsonschema import ValidationError

from .. import rules
from ..findings import NAME_LIMIT, Finding, cut, describe_type, json_pointer, quoted, show_value
from ..schemas import EventSchema
from ..surfaces import ACTIONS, HANDLER_METHODS, WEBHOOK_TYPES

_TYPE_NAMES = {
    "string": "a string",
    "object": "an object",
    "array": "an array",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "null": "null",
}
_KEYWORD_ORDER = {"required": 0, "type": 1}


@dataclass(frozen=True)
class EventNames:
    """How one surface names its events, for the ``S204`` finding of a name it does not know."""

    field: str  # where the name is: action, type, handler
    kind: str  # what the name is called in a message
    noun: str  # what a name names
    kinds: str  # the known names, in a message
    known: tuple[str, ...]
    normalise: Callable[[str], str]  # a misspelt name as the known ones are spelt, for did-you-mean


def _webhook_spelling(name: str) -> str:
    normal = name.lower().replace("_", ".").replace("-", ".")
    return normal.replace("dial.in", "dialin").replace("dial.out", "dialout")


CLIENT_NAMES = EventNames(
    "action", "action", "event", "telephony actions", ACTIONS, lambda n: n.lower().replace("_", "-")
)
WEBHOOK_NAMES = EventNames("type", "webhook type", "webhook", "webhook types", WEBHOOK_TYPES, _webhook_spelling)
HANDLER_NAMES = EventNames(
    "handler",
    "handler",
    "handler",
    "daily-python handlers",
    tuple(HANDLER_METHODS.values()),
    lambda n: n.lower().replace("-", "_"),
)


def unknown_name_finding(line: int, name: str, names: EventNames, session_id: str | None) -> Finding:
    """``S204`` for a telephony-looking event name that is not one of a surface's ten."""
    guess = _closest(names.normalise(name), names.known) if len(name) <= NAME_LIMIT else []
    hint = f"did you mean {quoted(guess[0])}?" if guess else f"the ten {names.kinds} are: {', '.join(names.known)}"
    return rules.UNKNOWN_TELEPHONY_ACTION.finding(
        line,
        f"{names.kind} {quoted(name)} is not a Daily telephony {names.noun}; {hint}",
        pointer=f"/{names.field}",
        action=cut(name),
        session_id=session_id,
    )


@functools.lru_cache(maxsize=1024)
def _closest(name: str, known: tuple[str, ...]) -> list[str]:
    # A broken recorder repeats one misspelling on every line, and difflib is slow: the guess
    # is cached per name (bounded, so a capture of random names stays small).
    return difflib.get_close_matches(name, known, n=1, cutoff=0.6)


def schema_findings(
    line: int, event: dict[str, Any], es: EventSchema, sid: str | EllipsisType | None = ...
) -> list[Finding]:
    """One finding per schema violation of ``event``, most relevant first; ``sid`` is the
    session id the findings name, when the event does not carry it in ``sessionId``."""
    if isinstance(sid, EllipsisType):
        sid = _session_id(event)
    try:
        explained = _explained(event, es)
    except RecursionError:
        return _deep_findings(line, event, es, sid)
    return [
        rule.finding(line, message, pointer=pointer, action=es.action, session_id=sid)
        for rule, pointer, message in explained
    ]


def _session_id(event: dict[str, Any]) -> str | None:
    session_id = event.get("sessionId")
    return session_id if isinstance(session_id, str) else None


#: ``(rule, pointer, message)`` of each violation of an event, most relevant first.
Explanation = list[tuple[rules.Rule, str, str]]

#: How many explanations of defects a schema remembers, and how large a defect may be to be
#: remembered (see :func:`_explained`).
EXPLAINED_DEFECTS = 1024
_DEFECT_BYTES = 4096


def _explained(event: dict[str, Any], es: EventSchema) -> Explanation:
    """The explanation of each of ``event``'s violations, most relevant first.

    A recorder with a bug repeats one defect on every event, and explaining a defect is slow:
    the explanation of a recent defect is remembered, by all it depends on (:func:`_defect`).
    """
    parts = es.exact_parts
    wrong = _wrong_fields(event, es) if parts is not None else None
    if parts is None or wrong is None:
        return _explain_all(es.exact.iter_errors(event), es)
    missing = tuple(name for name in parts[0] if name not in event)
    defect = _defect(missing, wrong)
    remembered = es.explanations
    explained: Explanation | None = remembered.get(defect) if defect is not None else None
    if explained is None:
        errors = _errors(event, es, missing, wrong)
        if not errors:  # the validators disagree (held not to, tests/vectors): jsonschema decides
            return _explain_all(es.exact.iter_errors(event), es)
        explained = _explain_all(errors, es)
        if defect is not None:
            if len(remembered) >= EXPLAINED_DEFECTS:
                remembered.clear()
            remembered[defect] = explained
    return explained


def _wrong_fields(event: dict[str, Any], es: EventSchema) -> dict[str, Any] | None:
    """The top-level fields of ``event`` that jsonschema-rs finds wrong, with their values;
    ``None`` for a value it will not read (nested ~1,000 deep, a lone surrogate)."""
    try:
        failing = {path[0]: None for path in (e.instance_path for e in es.fast.iter_errors(event)) if path}
    except ValueError:
        return None
    return {name: event[name] for name in failing if name in event}


def _explain_all(errors: Iterable[ValidationError], es: EventSchema) -> Explanation:
    return [_explain(error, es) for error in sorted(errors, key=_relevance)]


def _defect(missing: tuple[str, ...], wrong: dict[str, Any]) -> tuple[tuple[str, ...], bytes] | None:
    """What the explanation of an event's violations depends on: its missing fields, and the
    fields jsonschema-rs says are wrong, with their values (as JSON: ``1``, ``1.0`` and
    ``true`` differ); ``None`` when that is too large to keep, or to write (orjson refuses
    integers past 64 bits and nesting past 254 levels)."""
    try:
        written = orjson.dumps(wrong)
    except TypeError:
        return None
    return (missing, written) if len(written) <= _DEFECT_BYTES else None


def _errors(
    event: dict[str, Any], es: EventSchema, missing: tuple[str, ...], wrong: dict[str, Any]
) -> list[ValidationError]:
    """jsonschema's errors for ``event``, the exact validator given only the fields that fail.

    jsonschema walks the whole schema for every event, while an invalid one usually gets
    only one field wrong: jsonschema-rs (the fast validator) names the failing top-level
    fields, and jsonschema explains just those. The result is the same list of errors (a
    test holds the two ways to that): an event schema is an object with ``required`` and
    ``properties``, so its errors are the ``missing`` required fields, built here as
    jsonschema builds them, and the ``wrong`` properties' own errors.
    """
    assert es.exact_parts is not None
    required, properties_only = es.exact_parts
    errors: list[ValidationError] = [_missing(name, required, event, es.exact.schema) for name in missing]
    errors += properties_only.iter_errors(wrong)
    return errors


def _missing(name: str, required: list[str], event: dict[str, Any], schema: Any) -> ValidationError:
    """The error jsonschema's ``required`` keyword yields for a missing field."""
    from jsonschema import ValidationError

    return ValidationError(
        f"{name!r} is a required property",
        validator="required",
        validator_value=required,
        instance=event,
        schema=schema,
        schema_path=("required",),
    )


#: Deeper than any of our schemas looks, shallow enough for jsonschema's recursion.
_EXPLAIN_DEPTH = 32


def _deep_findings(line: int, event: dict[str, Any], es: EventSchema, sid: str | None) -> list[Finding]:
    """Findings for an event with a value nested about a thousand levels deep, which makes
    jsonschema (and ``repr``) exhaust Python's recursion limit.

    Our schemas look a few levels deep at most, so the event is explained with its values cut
    off at :data:`_EXPLAIN_DEPTH` levels (a cut container becomes an empty one of its type):
    every violation the schema can see is still there.
    """
    cut = _shallow(event, _EXPLAIN_DEPTH)
    try:
        out = schema_findings(line, cut, es)
    except RecursionError:  # pragma: no cover - the cut event is at most _EXPLAIN_DEPTH deep
        out = []
    if out:
        return [dataclasses.replace(f, session_id=sid) for f in out]
    return [
        rules.INVALID_VALUE.finding(
            line,
            f"{es.action} does not match its schema, deeper than {_EXPLAIN_DEPTH} levels of nesting",
            pointer="",
            action=es.action,
            session_id=sid,
        )
    ]


def _shallow(value: Any, depth: int) -> Any:
    """A copy of ``value`` whose containers below ``depth`` levels are empty."""
    if type(value) is dict:
        return {k: _shallow(v, depth - 1) for k, v in value.items()} if depth > 0 else {}
    if type(value) is list:
        return [_shallow(v, depth - 1) for v in value] if depth > 0 else []
    return value


def undocumented_findings(
    line: int, event: dict[str, Any], es: EventSchema, sid: str | EllipsisType | None = ...
) -> Iterator[Finding]:
    """``S205`` (strict mode) for each field the schema does not document; ``sid`` as for
    :func:`schema_findings`."""
    if isinstance(sid, EllipsisType):
        sid = _session_id(event)
    extras: list[tuple[str, ...]] = [(k,) for k in event if k not in es.documented]
    for name, known in es.nested_documented.items():
        nested = event.get(name)
        if isinstance(nested, dict):
            extras.extend((name, k) for k in nested if k not in known)
    for path in extras:
        yield rules.UNDOCUMENTED_FIELD.finding(
            line,
            f"{es.action} carries {quoted(_field(path))}, which its schema does not document",
            pointer=json_pointer(path),
            action=es.action,
            session_id=sid,
            hint="a field Daily added recently, or a misspelt one; unknown fields are allowed outside --strict",
        )


def _relevance(error: ValidationError) -> tuple[int, int, str]:
    return (len(error.path), _KEYWORD_ORDER.get(str(error.validator), 2), json_pointer(list(error.path)))


def _field(path: Any) -> str:
    return ".".join(str(p) for p in path) or "(the event)"


def _explain(error: ValidationError, es: EventSchema) -> tuple[rules.Rule, str, str]:
    """``(rule, pointer, message)`` for one jsonschema error."""
    path = list(error.path)
    keyword = error.validator
    found = error.instance
    if keyword == "required":
        absent = [f for f in _listed(error.validator_value) if isinstance(found, dict) and f not in found]
        # jsonschema reports each missing field as its own error ("'x' is a required property"),
        # all carrying the whole list: name the one this error is about.
        missing = next((f for f in absent if error.message.startswith(repr(f))), absent[0] if absent else "?")
        described = es.schema.get("properties", {}).get(missing, {}).get("description", "")
        if path:
            described = ""
        about = f" ({described.rstrip('.')})" if described else ""
        return (
            rules.MISSING_FIELD,
            json_pointer([*path, missing]),
            f"{es.action} is missing required field {quoted(_field([*path, missing]))}{about}",
        )
    pointer = json_pointer(path)
    field = _field(path)
    if keyword == "type":
        expected = _expected_types(error.validator_value)
        return (
            rules.WRONG_TYPE,
            pointer,
            f"{es.action} {quoted(field)} should be {expected} but is {_found(found)}",
        )
    if keyword == "anyOf" and error.context and all(e.validator == "type" for e in error.context):
        expected = " or ".join(dict.fromkeys(_expected_types(e.validator_value) for e in error.context))
        return (
            rules.WRONG_TYPE,
            pointer,
            f"{es.action} {quoted(field)} should be {expected} but is {_found(found)}",
        )
    if keyword == "enum":
        options = ", ".join(show_value(v) for v in _listed(error.validator_value))
        message = f"{es.action} {quoted(field)} should be one of {options} but is {show_value(found)}"
        return rules.INVALID_VALUE, pointer, message
    if keyword == "const":
        return (
            rules.INVALID_VALUE,
            pointer,
            f"{es.action} {quoted(field)} should be {show_value(error.validator_value)} but is {show_value(found)}",
        )
    title = error.schema.get("title") if isinstance(error.schema, dict) else None
    if keyword in ("pattern", "anyOf") and title:
        return rules.INVALID_VALUE, pointer, f"{es.action} {quoted(field)} should be {title} but is {show_value(found)}"
    return rules.INVALID_VALUE, pointer, f"{es.action} {quoted(field)}: {cut(error.message, 200)}"


def _found(value: Any) -> str:
    """``a number 42``, ``a string "x"``; just ``null`` for null."""
    return "null" if value is None else f"{describe_type(value)} {show_value(value)}"


def _listed(value: Any) -> list[Any]:
    """A keyword's list value (``required``, ``enum``), typed loosely by jsonschema's stubs."""
    return list(value) if isinstance(value, (list, tuple)) else []


def _expected_types(value: Any) -> str:
    types = value if isinstance(value, list) else [value]
    return " or ".join(_TYPE_NAMES.get(t, str(t)) for t in types)
