"""Checking Daily REST webhook deliveries in a capture: the webhook family of schemas
(``schemas/webhook-*.schema.json``) and their lifecycle, ordered by event time.

A webhook delivery is ``{version, type, id, payload, event_ts}`` with a snake_case
``payload`` (reference §4). The line stage hands this stage every object that has no
``action`` but a webhook ``type`` (a :class:`~.records.WebhookItem`); client events keep
their own path. One capture may hold both kinds, or each may have its own capture.

Rule ids are the client events' where they mean the same thing: ``S201``–``S205`` for the
schema, ``L301``–``L306`` for the lifecycle. The lifecycle reuses
:class:`~.sessions.SessionTracker` on a normalised view of each delivery
(``sessionId`` from ``payload.session_id``, ``destination``/``origin`` from the payload,
``callClientId`` ``None`` because webhooks have no call client, D21). Since a client event
always has a ``callClientId`` string, a webhook session never shares a key with a client
session: the two surfaces of one call are checked side by side, not merged.

Order (L20): Daily documents no ordering guarantee for deliveries and retries them with a
back-off of up to 15 minutes, so arrival order is not event order. Deliveries are buffered
and fed to the tracker sorted by ``(payload.timestamp, arrival)``. The buffer is bounded
two ways, so memory stays bounded on a capture of any length:

* **time window** (:data:`DEFAULT_WINDOW_SECONDS`, one hour): a delivery leaves the buffer
  once a delivery with a ``payload.timestamp`` at least that much later has arrived; a
  delivery arriving later than that behind the newest one is fed in arrival order;
* **size** (:data:`DEFAULT_MAX_BUFFERED`): beyond that many buffered deliveries the
  earliest leaves at once.

What is still buffered at the end of the capture is fed then. So lifecycle findings of
webhook deliveries can be reported after findings of later lines (each names its own line).

``payload.timestamp`` has a one-second resolution: two deliveries of the same second keep
their arrival order. An exact repeat of an earlier delivery (same ``id``, same content) is a
retry (§4): its schema is checked, but it is not fed to the lifecycle a second time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import orjson

from ..findings import Finding
from ..options import Options
from ..schemas import webhook_schemas
from ..surfaces import ACTION_OF, TYPE_OF, is_telephony_family
from .coverage import fold_paths
from .explain import WEBHOOK_NAMES, schema_findings, undocumented_findings, unknown_name_finding
from .records import STRING_LIMIT, bound_strings, session_record
from .sessions import SessionTracker
from .tally import Tally

#: Lateness tolerated when ordering by ``payload.timestamp``: Daily's exponential retries
#: back off up to 15 minutes over at most 5 tries (§4), so one hour covers a retried delivery.
DEFAULT_WINDOW_SECONDS = 3600
#: The most deliveries held for ordering at once.
DEFAULT_MAX_BUFFERED = 100_000
#: How many delivery ids are remembered to recognise a retry.
DEFAULT_SEEN_IDS = 10_000


def session_id_of(event: dict[str, Any]) -> str | None:
    """``payload.session_id`` when it is a string."""
    payload = event.get("payload")
    sid = payload.get("session_id") if type(payload) is dict else None
    return sid if type(sid) is str else None


def normalise(event: dict[str, Any]) -> dict[str, Any]:
    """The fields a record takes (:func:`~.records.session_record`), from a delivery.

    ``callClientId`` is ``None``: webhooks have no call client (D21). Only the identity
    fields a webhook carries are copied (``destination``, ``origin``; it has no
    ``sipCallId`` or ``provider``, §4).
    """
    payload = event.get("payload")
    if type(payload) is not dict:
        payload = {}
    out: dict[str, Any] = {"sessionId": payload.get("session_id"), "callClientId": None}
    for name in ("destination", "origin"):
        if name in payload:
            out[name] = payload[name]
    return out


def event_time(event: dict[str, Any]) -> int | None:
    """``payload.timestamp`` as whole seconds (an integer or a digit string, D3), else ``None``."""
    payload = event.get("payload")
    ts = payload.get("timestamp") if type(payload) is dict else None
    if type(ts) is int:
        return ts
    if type(ts) is str and ts.isascii() and ts.isdigit() and len(ts) <= 20:
        return int(ts)
    return None


class WebhookStream:
    """The webhook half of one capture check: feed it deliveries in capture order.

    :meth:`feed` returns the schema findings of a delivery at once and the lifecycle
    findings of whatever leaves the ordering buffer; :meth:`finish` drains the buffer at
    the end of the capture and completes :attr:`tally`.
    """

    def __init__(
        self,
        options: Options = Options(),
        window_seconds: int = DEFAULT_WINDOW_SECONDS,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        seen_ids: int = DEFAULT_SEEN_IDS,
    ) -> None:
        self.strict = options.strict
        self.tracker = SessionTracker(partial=options.partial, coverage=options.coverage)
        self.window = window_seconds
        self.max_buffered = max_buffered
        self.seen_limit = seen_ids
        self.tally = Tally()
        # (event time, arrival, line, webhook type, session record): a heap ordered by time, then arrival.
        self._buffer: list[tuple[int, int, int, str, list[Any]]] = []
        self._arrivals = 0
        self._clock: int | None = None  # the latest payload.timestamp seen
        self._seen: OrderedDict[Any, bytes] = OrderedDict()  # delivery id -> digest of its content, for retries

    def feed(self, line: int, event: dict[str, Any]) -> Iterator[Finding]:
        """Check one object whose ``type`` is a string (and which has no ``action``)."""
        webhook_type: str = event["type"]
        es = webhook_schemas().get(webhook_type)
        by_type = self.tally.events_by_action
        self.tally.events_by_surface["webhook"] = self.tally.events_by_surface.get("webhook", 0) + 1
        if es is None:
            if is_telephony_family(webhook_type):
                self.tally.unknown_telephony_events += 1
                self.tally.count_unknown(webhook_type)
                yield unknown_name_finding(line, webhook_type, WEBHOOK_NAMES, session_id_of(event))
            else:
                self.tally.other_events += 1  # another webhook (recording.started, …): counted, never flagged
            return
        by_type[webhook_type] = by_type.get(webhook_type, 0) + 1
        sid = session_id_of(event)
        if not es.fast.is_valid(event):
            yield from _with_session(schema_findings(line, event, es), sid)
        if self.strict:
            yield from _with_session(undocumented_findings(line, event, es), sid)
        if self._is_retry(event):
            return
        yield from self._order(line, webhook_type, event)

    def finish(self) -> Iterator[Finding]:
        """Feed every delivery still buffered, in order; call once at the end of the capture."""
        while self._buffer:
            yield from self._release()
        self.tally.sessions = self.tracker.sessions_seen
        self.tally.open_sessions = self.tracker.open_sessions()
        if self.tracker.coverage:
            self.tally.lifecycle_paths = fold_paths(self.tracker.ends, self.tracker.open_steps())

    # --- ordering ---------------------------------------------------------------------
    def _order(self, line: int, webhook_type: str, event: dict[str, Any]) -> Iterator[Finding]:
        when = event_time(event)
        if when is None:  # a broken timestamp (S202/S203 already): ordered as if it came now
            when = self._clock if self._clock is not None else 0
        if self._clock is None or when > self._clock:
            self._clock = when
        record = session_record(line, ACTION_OF[webhook_type], normalise(event))
        if record is not None:
            bound_strings(record)
        if record is not None:  # the tracker ignores session-less events: no need to hold them
            heapq.heappush(self._buffer, (when, self._arrivals, line, webhook_type, record))
            self._arrivals += 1
        horizon = self._clock - self.window
        while self._buffer and (self._buffer[0][0] <= horizon or len(self._buffer) > self.max_buffered):
            yield from self._release()

    def _release(self) -> Iterator[Finding]:
        _, _, _, webhook_type, record = heapq.heappop(self._buffer)
        found = self.tracker.feed(record)
        if found:
            for finding in found:
                yield _as_webhook(finding, webhook_type)

    def _is_retry(self, event: dict[str, Any]) -> bool:
        delivery_id = event.get("id")
        if type(delivery_id) is not str:
            return False
        key: Any = delivery_id
        if len(delivery_id) > STRING_LIMIT:  # remembered by digest (never equal to a string): ids are only compared
            key = (hashlib.blake2b(delivery_id.encode("utf-8", "surrogatepass"), digest_size=16).digest(),)
        try:
            content = hashlib.blake2b(orjson.dumps(event, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()
        except TypeError:  # pragma: no cover - nesting orjson cannot write; never a retry then
            return False
        if self._seen.get(key) == content:
            return True
        # Ids are not unique across types in Daily's own examples (D5): only an identical delivery is a retry.
        self._seen[key] = content
        self._seen.move_to_end(key)
        if len(self._seen) > self.seen_limit:
            self._seen.popitem(last=False)
        return False


def _with_session(findings: Any, session_id: str | None) -> Iterator[Finding]:
    """Findings from :mod:`.explain` read ``sessionId``; a delivery keeps it in ``payload.session_id``."""
    for finding in findings:
        yield dataclasses.replace(finding, session_id=session_id) if session_id is not None else finding


def _as_webhook(finding: Finding, webhook_type: str) -> Finding:
    """A lifecycle finding about a delivery: webhook names in the message, payload pointers."""
    message = finding.message
    for action, name in TYPE_OF.items():
        message = message.replace(action, name)
    pointer = finding.pointer
    if pointer:
        pointer = "/payload" + pointer
    return dataclasses.replace(finding, message=message, action=webhook_type, pointer=pointer)
