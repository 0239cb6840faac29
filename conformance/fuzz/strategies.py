"""Hypothesis strategies for Daily telephony events, built from the schemas in ``schemas/``.

Public and documented, so that users can write their own ``@given`` tests::

    from hypothesis import given
    from conformance.fuzz.strategies import events, streams, broken_streams

    @given(streams())
    def test_my_handler_survives(stream):
        handler = MyHandler()
        for event in stream:
            handler.handle(event)

(``conformance.strategies`` is the same module under its older name.)

Values are built *by construction* from the schemas, with hypothesis's public API only
(:mod:`.generate`), so a schema change changes what is generated; realistic values come
from :mod:`.values`. hypothesis-jsonschema is not used: its latest release calls hypothesis
internals that changed in 6.170.10, and it does not read draft 2020-12 (``docs/fuzzing.md``).

What each strategy promises, checked by ``tests/fuzz/test_strategies.py``:

* :func:`events` – one valid event. Alone it is a capture that begins mid-call, so the
  checker finds no error in it under ``--partial``.
* :func:`streams` – a whole valid capture: the checker finds nothing in it (no error, no
  warning) with the default options.
* :func:`broken_events` / :func:`broken_streams` – a :class:`Broken` value whose events
  fail the checker on exactly the rule it is labelled with (and no other error rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from ..surfaces import ACTION_OF_HANDLER, ACTIONS, HANDLER_METHODS
from .broken import BROKEN_EVENT_RULES, BROKEN_STREAM_RULES, Broken, broken_events, broken_streams
from .generate import event_strategy
from .streams import NON_TELEPHONY_ACTIONS, streams
from .values import REALISTIC, REALISTIC_PATTERNS, json_values

__all__ = [
    "BROKEN_EVENT_RULES",
    "BROKEN_STREAM_RULES",
    "NON_TELEPHONY_ACTIONS",
    "REALISTIC",
    "REALISTIC_PATTERNS",
    "Broken",
    "as_daily_python_record",
    "broken_events",
    "broken_streams",
    "events",
    "from_daily_python_record",
    "json_values",
    "streams",
]


def events(
    action: str | Sequence[str] | None = None, surface: str = "daily-js"
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid telephony events of one action, of several, or of any of the ten.

    Each is built from its schema: only the required fields, every field, or a mix; ``null``
    where the schema allows it (``dialin-error.type``); sometimes unknown extra fields; and
    ``sipHeaders`` values of every JSON type. Values are realistic (E.164 numbers and SIP
    URIs in both ``destination`` forms, UUID session ids, SIP Call-IDs) with odd-but-valid
    ones mixed in.

    A single event is what a consumer sees when it joins mid-call: the checker finds no
    error in it under ``--partial`` (a lone ``dialin-stopped`` is a start-less stop otherwise).

    ``surface="daily-python"`` gives what daily-python hands the event's handler: the keys
    daily-python documents always, the other keys daily-js may carry sometimes, beside the
    ``action`` it stands for (``as_daily_python_record`` writes it as a capture line).
    """
    if action is None:
        chosen: Sequence[str] = ACTIONS
    elif isinstance(action, str):
        chosen = (action,)
    else:
        chosen = tuple(action)
    unknown = [a for a in chosen if a not in ACTIONS]
    if unknown:
        raise ValueError(f"not a telephony action: {', '.join(unknown)} (known: {', '.join(ACTIONS)})")
    if len(chosen) == 1:
        return event_strategy(chosen[0], surface)
    return st.one_of([event_strategy(a, surface) for a in chosen])


def as_daily_python_record(event: dict[str, Any]) -> dict[str, Any]:
    """A generated daily-python event (``surface="daily-python"``) as a capture line
    (``schemas/daily-python-record.schema.json``): ``{"handler", "client", "data"}``.

    A broken event stays broken as a line: an action that is not a string is kept as the
    handler, and an event without an action gets a line without a handler."""
    record: dict[str, Any] = {}
    action = event.get("action")
    if "action" in event:
        record["handler"] = (
            HANDLER_METHODS.get(action, "on_" + action.replace("-", "_")) if isinstance(action, str) else action
        )
    if isinstance(event.get("callClientId"), str):
        record["client"] = event["callClientId"]
    if action == "dialin-ready":
        record["data"] = event.get("sipEndpoint")
    else:
        record["data"] = {k: v for k, v in event.items() if k not in ("action", "callClientId")}
    return record


def from_daily_python_record(record: dict[str, Any]) -> dict[str, Any]:
    """The event :func:`as_daily_python_record` wrote as ``record``, as the fuzzer's consumers
    take it (``action`` says which handler gets it): a written failure is replayed from it."""
    data = record.get("data")
    handler = record.get("handler")
    event: dict[str, Any] = {}
    if "handler" in record:
        action: Any = handler
        if isinstance(handler, str):
            action = ACTION_OF_HANDLER.get(handler) or handler.removeprefix("on_").replace("_", "-")
        event["action"] = action
    if event.get("action") == "dialin-ready":
        if data is not None:
            event["sipEndpoint"] = data
    elif isinstance(data, dict):
        event.update(data)
    if "client" in record:
        event["callClientId"] = record["client"]
    return event
