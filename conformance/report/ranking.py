"""The most important findings of a run, kept in bounded memory for reports that have a cap.

GitHub code scanning takes 25,000 results per run and shows ten error annotations per step;
a capture can hold millions of findings. A report with a cap offers every finding to a
:class:`MostImportant` as it streams by, and gets back the ones to show once the run ends.

Importance: new errors first, then new warnings, then known findings (a baseline lists
them). Within each, findings are taken round-robin over the (capture, rule) pairs: the first
finding of every rule in every capture comes before the second of any, so a rare defect is
never crowded out by a frequent one; ties go to the earlier finding. Each kind keeps at most
its cap in a heap, so memory is bounded by the caps, not by the capture. Until more findings are offered
than the least cap, they are all kept in offered order and nothing is ranked: a run with
few findings pays for none of it.
"""

from __future__ import annotations

import heapq
from typing import Any

from ..findings import Finding, Severity

#: The kinds of finding, most important first.
NEW_ERRORS, NEW_WARNINGS, KNOWN = range(3)


def importance(finding: Finding) -> int:
    """Which kind a finding is: :data:`NEW_ERRORS`, :data:`NEW_WARNINGS` or :data:`KNOWN`."""
    if finding.known is not None:
        return KNOWN
    return NEW_ERRORS if finding.severity is Severity.ERROR else NEW_WARNINGS


class MostImportant:
    """Keeps the most important findings offered to it, at most ``caps[kind]`` of each kind
    and ``total`` in all (see the module docstring).

    Arguments:
        total: how many :meth:`selected` returns at most.
        caps: per kind (:data:`NEW_ERRORS`, :data:`NEW_WARNINGS`, :data:`KNOWN`), how many
            to keep; ``total`` for each when not given.
    """

    def __init__(self, total: int, caps: tuple[int, int, int] | None = None) -> None:
        self.total = total
        self.caps = caps if caps is not None else (total, total, total)
        self._offered = [0, 0, 0]  # findings offered, per kind, once ranked
        # Per kind, a heap of (-ordinal, -sequence, path, finding, tag): its root is the least
        # important finding kept, the one a more important newcomer replaces.
        self._heaps: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
        # Per (capture, rule, kind): a rule's known findings do not push back its first new one.
        self._ordinals: dict[tuple[str, str, int], int] = {}
        self._sequence = 0
        # As long as no more are offered than the least of the caps, every finding is kept,
        # in the order offered: they wait in _pending, unranked (most runs never reach a cap).
        # The first finding past that ranks them, in order, as if they had been ranked on offer.
        self._room = min(total, *self.caps)
        self._pending: list[tuple[str, Finding, Any]] | None = [] if self._room > 0 else None
        self._counted = 0  # how many pending findings _offered counts

    @property
    def offered(self) -> list[int]:
        """Per kind, how many findings were offered."""
        pending = self._pending
        if pending is None:
            return self._offered
        if self._counted != len(pending):  # counted when asked (once a run ends), not on offer
            counts = [0, 0, 0]
            for _, finding, _ in pending:
                counts[importance(finding)] += 1
            self._offered, self._counted = counts, len(pending)
        return self._offered

    def offer(self, path: str, finding: Finding, tag: Any = None) -> None:
        """Consider one finding of the capture at ``path`` (in the order they are found), with
        anything the caller wants back with it (``tag``)."""
        pending = self._pending
        if pending is not None:
            if len(pending) < self._room:
                pending.append((path, finding, tag))
                return
            self._pending = None
            self._offered = [0, 0, 0]
            for waiting in pending:
                self._rank(*waiting)
        self._rank(path, finding, tag)

    def _rank(self, path: str, finding: Finding, tag: Any) -> None:
        kind = importance(finding)
        self._offered[kind] += 1
        key = (path, finding.rule, kind)
        ordinal = self._ordinals.get(key, 0)
        self._ordinals[key] = ordinal + 1
        cap = self.caps[kind]
        if not cap:
            return
        self._sequence += 1
        heap = self._heaps[kind]
        entry = (-ordinal, -self._sequence, path, finding, tag)
        if len(heap) < cap:
            heapq.heappush(heap, entry)
        elif entry[:2] > heap[0][:2]:
            heapq.heapreplace(heap, entry)

    def selected(self) -> list[tuple[str, Finding, Any]]:
        """The findings to show, ``(path, finding, tag)``, in the order they were offered."""
        if self._pending is not None:
            return list(self._pending)
        chosen: list[Any] = []
        for heap in self._heaps:
            room = self.total - len(chosen)
            if room <= 0:
                break
            chosen += heapq.nlargest(room, heap, key=lambda entry: entry[:2])
        chosen.sort(key=lambda entry: -entry[1])
        return [(path, finding, tag) for _, _, path, finding, tag in chosen]

    def kept(self) -> list[int]:
        """Per kind, how many of the offered findings :meth:`selected` returns."""
        out, room = [], self.total
        for offered, cap in zip(self.offered, self.caps, strict=True):
            out.append(max(0, min(offered, cap, room)))
            room -= out[-1]
        return out

    @property
    def omitted(self) -> int:
        """How many offered findings :meth:`selected` leaves out."""
        return sum(self.offered) - sum(self.kept())
