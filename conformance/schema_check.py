"""``telephony-conformance schemas --check FILE…``: are these files valid JSON Schemas of draft
2020-12, the draft of every schema in ``schemas/``? For teams that vendor or extend the
schemas (and for the pre-commit hook of the same name, ``.pre-commit-hooks.yaml``).

Each file must be JSON, must declare draft 2020-12 in ``$schema`` when it declares a draft,
and must validate against the draft's meta-schema; each problem is one line naming the file
(and, for a meta-schema violation, where in the file).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .escape import display_path, printable
from .findings import json_pointer

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def schema_problems(path: str) -> Iterator[str]:
    """One line per problem of the schema file at ``path`` (none when it is a valid schema)."""
    shown = display_path(path)
    try:
        schema = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        yield f"{shown}: cannot read: {exc.strerror or exc}"
        return
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        yield f"{shown}: not JSON: {printable(str(exc))}"
        return
    if isinstance(schema, dict) and "$schema" in schema and schema["$schema"].rstrip("#") != DRAFT:
        yield f"{shown}: declares $schema {printable(str(schema['$schema']))!r}, not draft 2020-12 ({DRAFT})"
        return
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = json_pointer(list(exc.path)) or "(the whole schema)"
        yield f"{shown}: not a valid draft 2020-12 schema at {where}: {printable(exc.message)}"
