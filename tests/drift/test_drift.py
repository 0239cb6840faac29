"""Drift between the schemas and Daily's own SDK types (``@daily-co/daily-js`` ``index.d.ts``).

The latest published daily-js is packed from npm, and for each of the ten telephony events
the type a handler receives (``DailyEventObject<'<action>'>``, read with the TypeScript type
checker by ``ts/shapes.cjs``) is compared with the schema: field names, optionality,
nullability and types, nested objects included. Every difference is printed; the known ones
are explained in :data:`KNOWN` and any other fails the test. Then a few hundred events built
from the vectors are type-checked against those interfaces with ``tsc``.

Skipped with the reason when Node, npm or the npm registry is unavailable.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from conftest import DailyTypings, npm

from conformance.schemas import ACTIONS, event_schemas, load_schemas, registry, schema_dir

#: Differences that are understood, by (action or "*", field path, kind) -> why. Each
#: reason cites the schema note ($comment) or discrepancy id (D1..D24 of the reference notes)
#: it rests on. An entry that no longer matches any difference fails the test too, so the
#: list stays true.
KNOWN: dict[tuple[str, str, str], str] = {
    ("*", "sipEndpoint", "narrowed"): (
        "defs.sipUri: the SDK types a plain string; the schema checks the 'sip:'/'sips:' scheme and no "
        "white space, after JSDOC ('The SIP endpoint URI', e.g. sip:room-name@sip.daily.co)."
    ),
    ("dialin-error", "details.sipEndpoint", "narrowed"): (
        "defs.sipUri, as sipEndpoint above (dialin-error details, DTS 0.81.0+)."
    ),
    ("*", "destination", "narrowed"): (
        "defs.address: JSDOC 'Phone number in E.164 format or SIP URI of the remote party' (and WH-dialout-answered); "
        "the SDK types a plain string."
    ),
    ("*", "origin", "narrowed"): (
        "defs.address: JSDOC 'phone number in E.164 or SIP URI'; the SDK types a plain string."
    ),
    ("dialout-error", "details.destination", "narrowed"): (
        "dialout-error details $comment: 'destination takes the same shapes as the event-level field' (defs.address)."
    ),
}

#: Schema-invalid vectors that the SDK types accept, by (action or "*", vector description) -> why.
TS_LOOSER: dict[tuple[str, str], str] = {
    ("*", "wrong type: sipHeaders is an array"): (
        "D19 / defs.sipHeaders: DTS types dial-in sipHeaders Record<string, any>, which TypeScript lets an "
        "array satisfy; JSDOC and the webhook docs say 'object' (a header map), so the schema's type: object "
        "rejects arrays."
    ),
}


@dataclass(frozen=True)
class Difference:
    action: str
    path: str
    kind: str
    sdk: str
    schema: str

    def explanation(self) -> str | None:
        return KNOWN.get((self.action, self.path, self.kind)) or KNOWN.get(("*", self.path, self.kind))

    def __str__(self) -> str:
        return f"{self.action} {self.path}: {self.kind} (SDK: {self.sdk}; schema: {self.schema})"


@dataclass
class Shape:
    """A schema property reduced to what TypeScript can express, plus what it cannot (``narrowed``)."""

    atoms: set[str]
    narrowed: str | None = None
    properties: dict[str, Shape] | None = None
    required: set[str] = field(default_factory=set)
    index: Shape | None = None


def _resolve(node: dict[str, Any], base: str) -> tuple[dict[str, Any], str]:
    """``node`` with its ``$ref`` chain merged in (the referring node's keywords win), and its base URI."""
    while "$ref" in node:
        uri = urljoin(base, node["$ref"])
        resolved = registry().resolver(base_uri=base).lookup(uri)
        base = urldefrag(uri).url  # every schema file is one resource, so its $id is the base
        node = {**resolved.contents, **{k: v for k, v in node.items() if k != "$ref"}}
    return node, base


def schema_shape(node: dict[str, Any], base: str) -> Shape:
    node, base = _resolve(node, base)
    if "anyOf" in node:
        branches = [schema_shape(b, base) for b in node["anyOf"]]
        narrowed = " or ".join(b.narrowed or "/".join(sorted(b.atoms)) for b in branches)
        return Shape(atoms=set().union(*(b.atoms for b in branches)), narrowed=narrowed)
    if "const" in node:
        return Shape(atoms={f"literal:{node['const']}"})
    if "enum" in node:
        return Shape(atoms={"null" if v is None else f"literal:{v}" for v in node["enum"]})
    types = node.get("type", [])
    shape = Shape(atoms=set(types if isinstance(types, list) else [types]), narrowed=node.get("pattern"))
    if "object" in shape.atoms:
        shape.properties = {k: schema_shape(v, base) for k, v in node.get("properties", {}).items()}
        shape.required = set(node.get("required", []))
        extra = node.get("additionalProperties", True)
        shape.index = schema_shape(extra, base) if isinstance(extra, dict) else Shape(atoms={"any"})
    return shape


def _atoms(atoms: Any) -> str:
    return " | ".join(sorted(atoms)) or "(none)"


def compare(action: str, sdk: dict[str, Any], schema: Shape, prefix: str = "") -> list[Difference]:
    """Differences between an SDK object type's fields and a schema object shape."""
    out: list[Difference] = []
    assert schema.properties is not None
    for name in sorted(set(sdk) | set(schema.properties)):
        path = prefix + name
        mine, theirs = schema.properties.get(name), sdk.get(name)
        if mine is None:
            out.append(Difference(action, path, "only in SDK", theirs["text"], "not declared (accepted as unknown)"))
            continue
        if theirs is None:
            out.append(Difference(action, path, "only in schema", "absent", _atoms(mine.atoms)))
            continue
        required = name in schema.required
        if theirs["optional"] == required:
            sdk_says, schema_says = ("optional", "required") if required else ("required", "optional")
            out.append(Difference(action, path, "optionality", sdk_says, schema_says))
        sdk_atoms, schema_atoms = set(theirs["atoms"]), set(mine.atoms)
        if ("null" in sdk_atoms) != ("null" in schema_atoms):
            out.append(Difference(action, path, "nullability", _atoms(sdk_atoms), _atoms(schema_atoms)))
        if sdk_atoms - {"null"} != schema_atoms - {"null"}:
            out.append(Difference(action, path, "type", theirs["text"], _atoms(schema_atoms)))
        elif mine.narrowed:
            out.append(Difference(action, path, "narrowed", theirs["text"], mine.narrowed))
        if mine.properties is not None and "properties" in theirs:
            out += compare(action, theirs["properties"], mine, prefix=f"{path}.")
            # An interface without an index signature is open (any extra key), as is a schema
            # without additionalProperties; only a declared index type is compared.
            if theirs["index"] is not None and mine.index is not None:
                sdk_index, schema_index = set(theirs["index"]["atoms"]), mine.index.atoms
                if sdk_index != schema_index and not ({"any"} == sdk_index and "any" in schema_index):
                    out.append(Difference(action, f"{path}[*]", "type", theirs["index"]["text"], _atoms(schema_index)))
    return out


def event_shape(action: str) -> Shape:
    schema = load_schemas()[f"{action}.schema.json"]
    return schema_shape(schema, schema["$id"])


def all_differences(sdk_shapes: dict[str, Any]) -> list[Difference]:
    return [d for action in ACTIONS for d in compare(action, sdk_shapes[action]["fields"], event_shape(action))]


def test_each_action_has_its_own_sdk_interface(sdk_shapes: dict[str, Any]) -> None:
    # D11: until 0.92.2 DailyEventObject<'dialout-answered'> fell back to the base type.
    interfaces = {action: sdk_shapes[action]["interface"] for action in ACTIONS}
    generic = {a: i for a, i in interfaces.items() if not re.fullmatch(r"DailyEventObjectDial(in|Out)[A-Z]\w+", i)}
    assert not generic, f"DailyEventObject<action> is not a telephony interface: {generic}"
    assert len(set(interfaces.values())) == len(ACTIONS)


def test_no_unexplained_difference(sdk_shapes: dict[str, Any], daily_typings: DailyTypings) -> None:
    differences = all_differences(sdk_shapes)
    print(f"\n@daily-co/daily-js@{daily_typings.version}: {len(differences)} difference(s) from the schemas")
    for difference in differences:
        print(f"  {difference}\n      -> {difference.explanation() or 'UNEXPLAINED'}")
    unexplained = [str(d) for d in differences if d.explanation() is None]
    stale = [
        key
        for key in KNOWN
        if not any(d.kind == key[2] and d.path == key[1] and key[0] in ("*", d.action) for d in differences)
    ]
    assert not unexplained, "differences from the SDK types that no schema note explains:\n" + "\n".join(unexplained)
    assert not stale, f"KNOWN entries that no longer match a difference (remove them): {stale}"


def test_comparison_reports_each_kind_of_difference(sdk_shapes: dict[str, Any]) -> None:
    """The comparison can fail: a schema edited in four ways shows four differences."""
    shape = event_shape("dialin-error")
    assert shape.properties is not None
    shape.required.discard("provider")  # optional in the schema, required in the SDK
    shape.properties["type"] = Shape(atoms={"literal:start-failed"})  # null dropped
    shape.properties["errorMsg"] = Shape(atoms={"number"})
    del shape.properties["sipCallId"]
    kinds = {(d.path, d.kind) for d in compare("dialin-error", sdk_shapes["dialin-error"]["fields"], shape)}
    assert {
        ("provider", "optionality"),
        ("type", "nullability"),
        ("errorMsg", "type"),
        ("sipCallId", "only in SDK"),
    } <= kinds


# --- type-checking generated events with tsc -------------------------------------------------

EVENTS_PER_ACTION = 30


def _vector_tests(action: str) -> list[dict[str, Any]]:
    groups = json.loads((schema_dir() / "vectors" / f"{action}.json").read_text(encoding="utf-8"))
    return [test for group in groups for test in group["tests"]]


def generated_events(action: str) -> list[tuple[str, Any, bool]]:
    """(label, event, valid) for one action: its vectors plus random mixes of optional fields."""
    tests = _vector_tests(action)
    out = [(t["description"], t["data"], t["valid"]) for t in tests]
    valid = [t["data"] for t in tests if t["valid"] and isinstance(t["data"], dict)]
    schema = load_schemas()[f"{action}.schema.json"]
    required, optional = schema["required"], [p for p in schema["properties"] if p not in schema["required"]]
    pool = {name: [d[name] for d in valid if name in d] for name in schema["properties"]}
    rng = random.Random(f"drift-{action}")  # deterministic: a failure can be reproduced
    for i in range(EVENTS_PER_ACTION):
        chosen = [name for name in optional if rng.random() < 0.5]
        event = {name: rng.choice(pool[name]) for name in [*required, *chosen]}
        out.append((f"random mix #{i}", event, True))
    return out


def _has_unknown_keys(action: str, event: Any) -> bool:
    """True when the event or one of its documented object fields has a key its schema does not name."""
    if not isinstance(event, dict):
        return False
    documented = event_schemas()[action]
    if set(event) - documented.documented:
        return True
    return any(
        isinstance(event.get(name), dict) and bool(set(event[name]) - names)
        for name, names in documented.nested_documented.items()
    )


def _ts_line(name: str, interface: str, action: str, event: Any) -> str:
    literal = json.dumps(event, ensure_ascii=False)
    if _has_unknown_keys(action, event):
        # Unknown extras are allowed; TypeScript only objects to them in a fresh literal
        # (excess property check), so those events go through a variable.
        return f"const {name}_raw = {literal} as const; export const {name}: {interface} = {name}_raw;"
    return f"export const {name}: {interface} = {literal};"


def test_generated_events_type_check(
    sdk_shapes: dict[str, Any], daily_typings: DailyTypings, typescript_prefix: Path, tmp_path: Path
) -> None:
    interfaces = {action: sdk_shapes[action]["interface"] for action in ACTIONS}
    module = str(daily_typings.index_d_ts).removesuffix(".d.ts")
    lines = [f"import type {{ {', '.join(sorted(interfaces.values()))} }} from {json.dumps(module)};"]
    meaning: dict[int, tuple[str, bool]] = {}  # line number -> (label, must type-check)
    for action in ACTIONS:
        for i, (label, event, valid) in enumerate(generated_events(action)):
            # Only the verdicts TypeScript can reproduce are checked: valid events, and events
            # missing a required field or carrying a JSON type the SDK type excludes.
            if not valid and not label.startswith(("missing required field", "wrong type:")):
                continue
            lines.append(_ts_line(f"e_{action.replace('-', '_')}_{i}", interfaces[action], action, event))
            meaning[len(lines)] = (f"{action}: {label}", valid)
    source = tmp_path / "events.ts"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert sum(valid for _, valid in meaning.values()) >= 300

    tsc = typescript_prefix / "node_modules" / "typescript" / "bin" / "tsc"
    done = subprocess.run(
        [npm.require_node(), str(tsc), "--noEmit", "--strict", "--skipLibCheck", "--pretty", "false",
         "--target", "es2020", "--moduleResolution", "node10", str(source)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    errors: dict[int, list[str]] = {}
    for match in re.finditer(r"events\.ts\((\d+),\d+\): error (TS\d+: .*)", done.stdout):
        errors.setdefault(int(match[1]), []).append(match[2])
    stray = {n: e for n, e in errors.items() if n not in meaning}
    assert not stray, f"tsc errors outside the events: {stray}\n{done.stdout[-2000:]}"
    rejected_valid = {meaning[n][0]: e for n, e in errors.items() if meaning[n][1]}
    accepted = [meaning[n][0] for n in meaning if not meaning[n][1] and n not in errors]
    print(f"\ntsc: {len(meaning)} events, {len(errors)} rejected; schema-invalid events the SDK types accept:")
    for label in accepted:
        print(f"  {label}\n      -> {_looser_reason(label) or 'UNEXPLAINED'}")
    unexplained = [label for label in accepted if not _looser_reason(label)]
    stale = [key for key in TS_LOOSER if not any(_matches(key, label) for label in accepted)]
    assert not rejected_valid, f"schema-valid events that do not type-check against daily-js: {rejected_valid}"
    assert not unexplained, f"schema-invalid events the SDK types accept (explain in TS_LOOSER): {unexplained}"
    assert not stale, f"TS_LOOSER entries that no longer match (remove them): {stale}"


def _matches(key: tuple[str, str], label: str) -> bool:
    action, description = label.split(": ", 1)
    return key[1] == description and key[0] in ("*", action)


def _looser_reason(label: str) -> str | None:
    return next((reason for key, reason in TS_LOOSER.items() if _matches(key, label)), None)
