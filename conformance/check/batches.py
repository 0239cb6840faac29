"""A byte range's findings in bounded batches: written by a worker as they come, read back in order.

A range of a capture dense with findings (millions of lines of ``{}``) holds a finding per
line: held whole, in the worker and again in the calling process, they made memory grow with
the count of findings. So a worker writes them to its result file (:mod:`.parallel`) a batch
at a time, as the range is checked, and the calling process reads them back a batch at a
time while it reports them. Two streams, each in line order: the line stage's findings
(``stage``), and the session tracker's, each with the key of the session it is about
(``flagged``, for :func:`~.ranges.join`, which replays some sessions).

Without a file (a range read again, a test), the batches stay in memory.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from .. import rules
from ..findings import Finding

#: Findings per batch: enough that a batch costs one write and one read, few enough that a
#: batch in flight is a few megabytes at most.
BATCH = 4096
_UNREADABLE = rules.UNREADABLE.id


@dataclass
class Batches:
    """A range's findings: ``stage`` and ``flagged`` each a list of batches in memory, or of
    the offsets of batches in the result file at ``path``. ``broke_off``: a stage finding
    says reading the range broke off (``C110``)."""

    stage: list[Any] = field(default_factory=list)
    flagged: list[Any] = field(default_factory=list)
    path: str | None = None
    broke_off: bool = False

    def stage_findings(self, offset: int = 0) -> Iterator[Finding]:
        """The line stage's findings, in line order, ``offset`` lines further down."""
        for batch in self._read(self.stage):
            yield from _findings(batch, offset)

    def flagged_findings(self, offset: int = 0) -> Iterator[tuple[Finding, Any]]:
        """The session tracker's findings, in line order, ``offset`` lines further down, each
        with its session's key."""
        for batch, keys in self._read(self.flagged):
            yield from zip(_findings(batch, offset), keys, strict=True)

    def _read(self, batches: list[Any]) -> Iterator[Any]:
        if self.path is None:
            yield from batches
            return
        if not batches:
            return
        with open(self.path, "rb") as f:
            for offset in batches:
                f.seek(offset)
                yield pickle.load(f)


class BatchWriter:
    """Collects a range's findings into :class:`Batches`, writing each full batch to ``file``
    (a result file open for writing) or, without one, keeping it in memory."""

    def __init__(self, file: IO[bytes] | None = None) -> None:
        self.file = file
        self.batches = Batches()
        self._stage: list[Finding] = []
        self._flagged: list[Finding] = []
        self._keys: list[Any] = []

    def stage(self, findings: list[Finding]) -> None:
        """Add line-stage findings, in line order."""
        self._stage += findings
        if not self.batches.broke_off:
            self.batches.broke_off = any(f.rule == _UNREADABLE for f in findings)
        while len(self._stage) >= BATCH:
            self._put(self.batches.stage, self._stage[:BATCH])
            del self._stage[:BATCH]

    def flagged(self, findings: list[Finding], keys: list[Any]) -> None:
        """Add tracker findings, in line order, with the key of each one's session."""
        self._flagged += findings
        self._keys += keys
        while len(self._flagged) >= BATCH:
            self._put(self.batches.flagged, (self._flagged[:BATCH], self._keys[:BATCH]))
            del self._flagged[:BATCH], self._keys[:BATCH]

    def close(self) -> Batches:
        """Write what is left; the batches (their offsets, when written to a file)."""
        if self._stage:
            self._put(self.batches.stage, self._stage)
        if self._flagged:
            self._put(self.batches.flagged, (self._flagged, self._keys))
        self._stage, self._flagged, self._keys = [], [], []
        return self.batches

    def _put(self, batches: list[Any], batch: Any) -> None:
        if self.file is None:
            batches.append(batch)
            return
        batches.append(self.file.tell())
        pickle.dump(batch, self.file, protocol=pickle.HIGHEST_PROTOCOL)


def _findings(batch: list[Finding], offset: int) -> Iterator[Finding]:
    """A batch's findings, moved ``offset`` lines down."""
    if not offset:
        return iter(batch)
    return (finding.moved(offset) for finding in batch)
