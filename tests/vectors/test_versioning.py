"""Schema versioning: one version in every ``$id``, a CHANGELOG entry for it, no silent breaks.

``schemas/vectors/released/<version>.json`` is the snapshot of the valid vectors as that
version was released. A current schema that rejects a snapshot vector breaks producers that
were conforming, which is only allowed with a greater major version.

Run this file as a script to add the current valid vectors to the current version's
snapshot (existing entries are kept, so a snapshot never loses a vector):

    python tests/vectors/test_versioning.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from _vectors import VECTOR_DIR, VECTORS, validators_for

from conformance.schemas import exact_validator, load_schemas, schema_version

RELEASED_DIR = VECTOR_DIR / "released"
CHANGELOG = VECTOR_DIR.parent / "CHANGELOG.md"
ID_VERSION = re.compile(r"^https://telephony-conformance\.example/schemas/(?P<version>[^/]+)/(?P<file>[^/]+)$")


def _major(version: str) -> int:
    return int(version.split(".")[0])


def _snapshots() -> list[Path]:
    return sorted(RELEASED_DIR.glob("*.json"))


def _load_snapshot(path: Path) -> dict[str, Any]:
    snapshot: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return snapshot


def breaking_vectors(snapshot: dict[str, Any], is_valid: Any) -> list[str]:
    """Snapshot vectors that ``is_valid(schema_file, data)`` now rejects, or whose schema is gone."""
    broken = []
    for entry in snapshot["vectors"]:
        if entry["schema"] not in load_schemas() or not is_valid(entry["schema"], entry["data"]):
            broken.append(f"{entry['schema']}: {entry['description']}")
    return broken


def _current_is_valid(schema_file: str, data: Any) -> bool:
    """Both the fast and the exact validator of the schema file (client event, webhook or union)."""
    fast, exact = validators_for(schema_file)
    return bool(fast.is_valid(data)) and bool(exact.is_valid(data))


def test_every_id_carries_the_same_version() -> None:
    versions = {}
    for name, schema in load_schemas().items():
        match = ID_VERSION.match(schema["$id"])
        assert match, f"{name}: $id {schema['$id']!r} does not follow …/schemas/<version>/<file>"
        assert match["file"] == name, f"{name}: $id names {match['file']}"
        versions[name] = match["version"]
    assert set(versions.values()) == {schema_version()}, versions
    assert re.fullmatch(r"\d+\.\d+\.\d+", schema_version())


def test_changelog_newest_entry_is_the_schema_version() -> None:
    entries = re.findall(r"^## \[?(\d+\.\d+\.\d+)\]?", CHANGELOG.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert entries, "schemas/CHANGELOG.md has no '## <version>' entry"
    assert entries[0] == schema_version(), f"newest CHANGELOG entry {entries[0]} != $id version {schema_version()}"
    assert len(entries) == len(set(entries)), "a version appears twice in the CHANGELOG"


def test_every_changelog_version_has_a_snapshot() -> None:
    entries = re.findall(r"^## \[?(\d+\.\d+\.\d+)\]?", CHANGELOG.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert {p.stem for p in _snapshots()} == set(entries)


def test_current_snapshot_holds_every_valid_vector() -> None:
    """Valid vectors added since the snapshot was written must be recorded (run this file to add them)."""
    path = RELEASED_DIR / f"{schema_version()}.json"
    assert path.is_file(), f"no snapshot for {schema_version()}: run `python tests/vectors/test_versioning.py`"
    recorded = {(e["schema"], e["description"]): e["data"] for e in _load_snapshot(path)["vectors"]}
    missing = [v.id for v in VECTORS if v.valid and recorded.get((v.schema_file, v.description), ...) != v.data]
    assert not missing, f"valid vectors not in {path.name} (run `python tests/vectors/test_versioning.py`): {missing}"


@pytest.mark.parametrize("path", _snapshots(), ids=lambda p: p.name)
def test_no_previously_valid_vector_breaks_without_a_major_bump(path: Path) -> None:
    snapshot = _load_snapshot(path)
    assert snapshot["version"] == path.stem
    assert snapshot["vectors"], "an empty snapshot proves nothing"
    if _major(schema_version()) > _major(snapshot["version"]):
        pytest.skip(f"schemas are {schema_version()}: breaking changes since {snapshot['version']} are allowed")
    broken = breaking_vectors(snapshot, _current_is_valid)
    assert not broken, (
        f"valid under {snapshot['version']}, invalid now under {schema_version()} with the same major version "
        f"(bump the major version and add a CHANGELOG entry, or keep accepting them): {broken}"
    )


def test_the_break_check_detects_a_tightened_schema() -> None:
    """Making an optional field required must be reported as a break."""
    snapshot = _load_snapshot(RELEASED_DIR / f"{schema_version()}.json")
    tightened = dict(load_schemas()["dialin-connected.schema.json"])
    tightened["required"] = [*tightened["required"], "userId"]
    strict = exact_validator(tightened)

    def is_valid(schema_file: str, data: Any) -> bool:
        if schema_file == "dialin-connected.schema.json":
            return strict.is_valid(data)
        return _current_is_valid(schema_file, data)

    broken = breaking_vectors(snapshot, is_valid)
    assert "dialin-connected.schema.json: required fields only" in broken


def write_snapshot() -> Path:
    """Add the current valid vectors to the current version's snapshot, keeping what it has."""
    path = RELEASED_DIR / f"{schema_version()}.json"
    entries = _load_snapshot(path)["vectors"] if path.is_file() else []
    known = {(e["schema"], e["description"], json.dumps(e["data"], sort_keys=True)) for e in entries}
    for v in VECTORS:
        key = (v.schema_file, v.description, json.dumps(v.data, sort_keys=True))
        if v.valid and key not in known:
            entries.append({"schema": v.schema_file, "description": v.description, "data": v.data})
            known.add(key)
    RELEASED_DIR.mkdir(exist_ok=True)
    snapshot = {
        "version": schema_version(),
        "description": "Valid vectors as released; every one must stay valid until the next major version.",
        "vectors": entries,
    }
    path.write_text(json.dumps(snapshot, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_snapshot()}")
