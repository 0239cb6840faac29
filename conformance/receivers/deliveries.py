"""The deliveries a receiver is sent: the schemas' documented examples and their mutations (each
optional field dropped, each field ``null``, unknown types, bodies that are not events),
signatures, interleaved streams, retries and deliveries out of order; schemathesis's
generated ones come from :mod:`.generated`. Every known kind of defect is always tried.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any

from ..openapi import Body, kind_of
from ..schemas import load_schemas
from ..surfaces import webhook_schema_file
from .checks import CHECKS, Delivery, Failure, applies
from .signing import STALE_AFTER, Signer
from .transport import Receiver


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _examples(body: Body) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(documented example, its schema)`` of each event a ``body`` receiver takes."""
    schemas = load_schemas()
    return [(copy.deepcopy(e), schemas[f]) for f in kind_of(body).events for e in schemas[f]["examples"]]


#: The verification request Daily sends when a pinless dial-in config is created (9.3).
VERIFICATION = {"To": "+12098888888"}


class DeliveryIds:
    """Gives each webhook delivery its own ``id``, so that a retry is the only repeat.

    ``run`` makes the ids unique per run too, for a server that outlives one run.
    """

    def __init__(self, run: str = "") -> None:
        self.run, self.n = run, 0

    def __call__(self, event: Any) -> bytes:
        if isinstance(event, dict) and isinstance(event.get("id"), str):
            self.n += 1
            event = {**event, "id": f"{event['id']}-{self.run}{self.n}"}
        return _dumps(event)


def example_deliveries(body: Body = "webhook", strict: bool = False, run: str = "") -> Iterator[Delivery]:
    """The deterministic deliveries: documented examples, then their mutations.

    Every delivery has its own webhook ``id`` (``run`` is mixed in), so none reads as a retry.
    """
    broken = "4xx" if strict else "not-5xx"
    kind = kind_of(body)
    dump = DeliveryIds(run)
    examples = _examples(body)
    nested = kind.nested
    for event, schema in examples:
        name = event[kind.key] if kind.key else kind.what
        yield Delivery("valid", f"documented {name}", dump(event), "2xx")
        holder = event[nested] if nested else event
        props = schema["properties"][nested] if nested else schema
        required = set(props.get("required", []))
        for f in list(holder):
            if f not in required:
                trimmed = copy.deepcopy(event)
                (trimmed[nested] if nested else trimmed).pop(f)
                yield Delivery("valid", f"{name} without its optional {f!r}", dump(trimmed), "2xx")
        for f in list(holder):
            nulled = copy.deepcopy(event)
            (nulled[nested] if nested else nulled)[f] = None
            yield Delivery("broken", f"{name} with {f!r}: null", dump(nulled), broken)
        for f in sorted(required):
            if f in holder:
                missing = copy.deepcopy(event)
                (missing[nested] if nested else missing).pop(f)
                yield Delivery("broken", f"{name} without its required {f!r}", dump(missing), broken)
    first, _ = examples[0]
    not_events = [
        ("a body that is not JSON", b"this is not json"),
        ("an empty body", b""),
        ("a JSON array", b"[]"),
        ("a JSON string", b'"dialin.connected"'),
        ("an object with none of the fields", b'{"hello":"world"}'),
    ]
    if kind.key is not None and kind.unknown is not None:
        not_events.append((f"an unknown {kind.key}", dump({**first, kind.key: kind.unknown})))
    for what, raw in not_events:
        yield Delivery("non-event", what, raw, "not-5xx")
    if applies("verification", body):
        body_bytes = _dumps(VERIFICATION)
        what = f"Daily's verification request {body_bytes.decode()}"
        yield Delivery("verification", what, body_bytes, "not-5xx", recommended="2xx")


def signature_deliveries(body: Body, signer: Signer) -> Iterator[Delivery]:
    """A wrong signature and a stale timestamp, on a valid delivery: each must get 401/403."""
    event = _dumps(_examples(body)[0][0])
    wrong = dataclasses.replace(signer, secret=base64.b64encode(b"not-the-secret").decode())
    yield Delivery(
        "signature", "a delivery signed with the wrong secret", event, "401/403", wrong.headers(event), sign=False
    )
    yield Delivery("signature", "a delivery with no signature", event, "401/403", {}, sign=False)
    yield Delivery(
        "signature", "a delivery signed an hour ago", event, "401/403", sign_at=time.time() - STALE_AFTER * 6
    )


def stream_deliveries(body: Body = "webhook", run: str = "") -> Iterator[Delivery]:
    """Interleaved sessions in order, a retried delivery, and deliveries out of order.

    Each check stands alone (the retry sends its first delivery itself), so any one of them
    can run without the others; ``run`` is mixed into the ids, as in :func:`example_deliveries`.
    """
    if not applies("stream", body):
        return
    schemas = load_schemas()

    def make(webhook_type: str, sid: str, ts: int) -> dict[str, Any]:
        event: dict[str, Any] = copy.deepcopy(schemas[webhook_schema_file(webhook_type)]["examples"][0])
        event["payload"]["session_id"] = sid
        event["payload"]["timestamp"] = str(ts)
        event["id"] = f"{webhook_type}-{sid}-{ts}" + (f"-{run}" if run else "")
        return event

    a, b = "3c7cf2a1-0000-4000-8000-00000000000a", "3c7cf2a1-0000-4000-8000-00000000000b"
    steps = [
        make("dialout.connected", a, 100),
        make("dialin.connected", b, 101),
        make("dialout.answered", a, 102),
        make("dialin.warning", b, 103),
        make("dialin.stopped", b, 104),
        make("dialout.stopped", a, 105),
    ]
    for e in steps:
        yield Delivery(
            "stream", f"interleaved sessions: {e['type']} of {e['payload']['session_id'][-1]}", _dumps(e), "2xx"
        )
    first = make("dialin.connected", "3c7cf2a1-0000-4000-8000-00000000000d", 300)
    yield Delivery("retry", f"the first delivery of {first['id']}", _dumps(first), "2xx")
    yield Delivery("retry", f"the same delivery again (a retry of {first['id']})", _dumps(first), "not-5xx")
    c = "3c7cf2a1-0000-4000-8000-00000000000c"
    for e in reversed(
        [make("dialout.connected", c, 200), make("dialout.answered", c, 201), make("dialout.stopped", c, 202)]
    ):
        yield Delivery("out-of-order", f"out of order: {e['type']} first", _dumps(e), "not-5xx")


def deliveries(
    check: str,
    body: Body = "webhook",
    strict: bool = False,
    signer: Signer | None = None,
    fuzz_examples: int = 50,
    run: str = "",
) -> list[Delivery]:
    """The deliveries of one check family (see :data:`CHECKS`); empty if it does not apply.

    ``signature`` applies only with a ``signer``; the stream families only to webhook bodies.
    schemathesis is needed only for ``valid`` and ``broken`` with ``fuzz_examples`` > 0.
    """
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}: choose one of {', '.join(CHECKS)}")
    if check == "signature":
        return list(signature_deliveries(body, signer)) if signer is not None else []
    out = [d for d in (*example_deliveries(body, strict, run), *stream_deliveries(body, run)) if d.check == check]
    if check in ("valid", "broken") and fuzz_examples:
        from .generated import fuzz_deliveries

        out += [d for d in fuzz_deliveries(body, strict, fuzz_examples, run=run) if d.check == check]
    return out


def check_receiver(
    receiver: Receiver, body: Body = "webhook", strict: bool = False, fuzz_examples: int = 50, run: str = ""
) -> list[Failure]:
    """Every failure of ``receiver``: deterministic deliveries, streams, signatures, fuzzing."""
    planned: list[Delivery] = [*example_deliveries(body, strict, run), *stream_deliveries(body, run)]
    if receiver.signer is not None:
        planned += signature_deliveries(body, receiver.signer)
    if fuzz_examples:
        from .generated import fuzz_deliveries

        planned += fuzz_deliveries(body, strict, fuzz_examples, run=run)
    return [f for d in planned if (f := receiver.send(d)) is not None]
