"""Keeping the most important findings within a cap, in bounded memory."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.findings import Finding, Severity
from conformance.report.ranking import MostImportant, importance

_FINDING = st.builds(
    lambda rule, error, known: Finding(0, rule, Severity.ERROR if error else Severity.WARNING, "m", known=known),
    st.sampled_from(["S201", "S202", "L301", "C101"]),
    st.booleans(),
    st.none() | st.just(""),
)


@settings(max_examples=300, deadline=None)
@given(
    offered=st.lists(st.tuples(st.sampled_from(["a.ndjson", "b.ndjson"]), _FINDING), max_size=60),
    total=st.integers(0, 12),
    caps=st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12)),
)
def test_selected_are_the_most_important_in_offered_order(
    offered: list[tuple[str, Finding]], total: int, caps: tuple[int, int, int]
) -> None:
    kept = MostImportant(total, caps)
    for index, (path, finding) in enumerate(offered):
        kept.offer(path, finding, index)
    # The same choice, made with everything in memory.
    # Round-robin over (capture, rule) within each kind: a rule's known findings do not push
    # back its new ones.
    ordinal: dict[tuple[str, str, int], int] = {}
    ranked = []
    for index, (path, finding) in enumerate(offered):
        key = (path, finding.rule, importance(finding))
        n = ordinal.get(key, 0)
        ordinal[key] = n + 1
        ranked.append((importance(finding), n, index))
    chosen: list[int] = []
    for kind in range(3):
        of_kind = sorted(r for r in ranked if r[0] == kind)[: caps[kind]]
        chosen += [index for _, _, index in of_kind][: total - len(chosen)]
    assert [tag for _, _, tag in kept.selected()] == sorted(chosen)
    assert kept.omitted == len(offered) - len(chosen)
    assert sum(kept.kept()) == len(chosen)


def test_memory_is_bounded_by_the_caps() -> None:
    kept = MostImportant(10, (10, 10, 0))
    for line in range(100_000):
        kept.offer("a", Finding(line, "S201", Severity.ERROR, "m"))
    assert max(len(heap) for heap in kept._heaps) == 10
    assert [f.line for _, f, _ in kept.selected()] == list(range(10))
    assert kept.omitted == 100_000 - 10


def test_findings_within_the_caps_wait_unranked_and_the_first_past_them_ranks_them() -> None:
    kept = MostImportant(10)
    for line in range(10):
        kept.offer("a", Finding(line, "S201" if line % 2 else "L301", Severity.ERROR, "m"), line)
    assert [tag for _, _, tag in kept.selected()] == list(range(10))
    assert (kept.offered, kept.omitted) == ([10, 0, 0], 0)
    for line in range(10, 100_000):
        kept.offer("a", Finding(line, "S201", Severity.ERROR, "m"), line)
    assert kept._pending is None
    assert max(len(heap) for heap in kept._heaps) == 10
    assert [tag for _, _, tag in kept.selected()] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert (kept.offered, kept.omitted) == ([100_000, 0, 0], 100_000 - 10)


def test_a_rule_s_first_new_error_comes_before_other_rules_later_ones_whatever_its_known_findings() -> None:
    kept = MostImportant(3, (3, 3, 3))
    for line in range(50):
        kept.offer("a.ndjson", Finding(line, "S202", Severity.ERROR, "m", known=""))  # known ones
    for line in range(50, 55):
        kept.offer("a.ndjson", Finding(line, "S203", Severity.ERROR, "m"))
    kept.offer("a.ndjson", Finding(99, "S202", Severity.ERROR, "m"))  # the one new S202
    assert [(f.rule, f.line) for _, f, _ in kept.selected()] == [("S203", 50), ("S203", 51), ("S202", 99)]
