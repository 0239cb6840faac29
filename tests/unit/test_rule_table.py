"""The rule registry is complete, and the README's rule table is generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.findings import Severity
from conformance.rules import RULES, TABLE_BEGIN, TABLE_END, replace_table, rule_table

README = Path(__file__).resolve().parent.parent.parent / "README.md"


def _readme_table(text: str) -> str:
    assert text.count(TABLE_BEGIN) == 1 and text.count(TABLE_END) == 1, "README needs exactly one pair of markers"
    return text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip()


def test_readme_rule_table_is_current() -> None:
    assert _readme_table(README.read_text(encoding="utf-8")) == rule_table(), (
        "README.md's rule table is stale: run `telephony-conformance rules --write-readme README.md`"
    )


def test_a_stale_table_is_detected_and_replace_table_fixes_it() -> None:
    current = README.read_text(encoding="utf-8")
    stale = current.replace("| `L306` |", "| `L399` |")
    assert stale != current
    assert _readme_table(stale) != rule_table()
    assert _readme_table(replace_table(stale)) == rule_table()
    with pytest.raises(ValueError, match="markers"):
        replace_table("# no markers here\n")


def test_every_rule_is_complete() -> None:
    assert RULES
    for rid, rule in RULES.items():
        assert rule.id == rid
        assert re.fullmatch(r"[CSL][0-9]{3}", rid), rid
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name
        assert isinstance(rule.severity, Severity)
        for text in (rule.summary, rule.rationale, rule.example):
            assert isinstance(text, str) and text.strip(), rid


def test_ids_and_names_are_unique() -> None:
    assert len({r.id for r in RULES.values()}) == len(RULES)
    assert len({r.name for r in RULES.values()}) == len(RULES)


def test_rule_stages_are_in_order() -> None:
    stages = [rid[0] for rid in RULES]
    assert stages == sorted(stages, key="CSL".index)


def test_the_table_has_one_row_per_rule() -> None:
    rows = rule_table().splitlines()[2:]
    assert [row.split("|")[1].strip().strip("`") for row in rows] == list(RULES)
    for row, rule in zip(rows, RULES.values(), strict=True):
        assert f"| {rule.severity.value} |" in row


def test_lifecycle_rationales_cite_sources() -> None:
    for rid, rule in RULES.items():
        if rid[0] in "SL":
            assert re.search(r"\b(?:[DL][0-9]+|JSDOC|DTS|WH)\b", rule.rationale), rid
