"""The capture checker, one module per stage:

* :mod:`.reading` turns a capture's bytes into batches of lines;
* :mod:`.lines` checks each line on its own: its syntax (:mod:`.syntax`), the fast path
  for a compact valid event (:mod:`.fastpath`), its schema and the findings that explain a
  violation (:mod:`.explain`); it hands each event of a session on as a record
  (:mod:`.records`);
* :mod:`.sessions` checks the lifecycle of each call session, :mod:`.webhooks` that of
  webhook deliveries in event-time order;
* :mod:`.parallel` runs the line and session stages on byte ranges of a large file in
  worker processes, :mod:`.batches` hands each range's findings on in bounded batches, and
  :mod:`.ranges` joins the ranges' sessions in order;
* :mod:`.pipeline` joins the stages: a capture in, findings and a :class:`CaptureSummary`
  (:mod:`.tally`) out.
"""

from __future__ import annotations

from .pipeline import check_file, check_stream
from .reading import CaptureScan, CaptureUnreadable, capture_files, scan_paths
from .tally import CaptureSummary, Tally

__all__ = [
    "CaptureScan",
    "CaptureSummary",
    "CaptureUnreadable",
    "Tally",
    "capture_files",
    "check_file",
    "check_stream",
    "scan_paths",
]
