"""Driving an HTTP receiver of telephony events and judging its answers.

A receiver is a running server (a URL) or an ASGI/WSGI app driven in process. Deliveries
come from two sources: the schemas' documented examples, mutated deterministically (each
optional field dropped, each field ``null``, unknown types, not-events, retries,
out-of-order streams), so every known kind of defect is always tried; and schemathesis,
which generates valid and broken bodies from the OpenAPI document of
:mod:`conformance.openapi`. What each delivery must get:

* a valid delivery: a 2xx;
* a broken delivery: never a 5xx (a 4xx under strict rejection);
* a body that is not an event (not JSON, not an object, no known ``type``): a 4xx;
* a wrongly signed or stale delivery (when a secret is given): a 401 or 403;
* every answer within the time limit.

Signatures: Daily documents HMAC-SHA256 with a base64 secret in ``X-Webhook-Signature``
and ``X-Webhook-Timestamp`` (reference §4) but the exact signed string could not be
confirmed offline, so the default is HMAC-SHA256 over ``timestamp + "." + raw body``, keyed
with the base64-decoded secret, sent base64-encoded; :class:`Signer` makes every part of
that configurable.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import hmac
import importlib
import inspect
import json
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .openapi import Body, build_openapi
from .schemas import load_schemas, webhook_union_validator
from .surfaces import ACTIONS, WEBHOOK_TYPES
from .surfaces import webhook_schema_file as schema_file

DEFAULT_TIMEOUT = 5.0
DEFAULT_SIGNED_STRING = "{timestamp}.{body}"
STALE_AFTER = 10 * 60
APP_SHOWN_BASE = "http://127.0.0.1:8000"  # a timestamp this old (seconds) is stale in the stale-signature check


@dataclass(frozen=True)
class Signer:
    """Signs a delivery the way Daily is understood to (see the module doc); configurable."""

    secret: str  # base64, as Daily shows it
    signature_header: str = "X-Webhook-Signature"
    timestamp_header: str = "X-Webhook-Timestamp"
    message: Callable[[str, bytes], bytes] = lambda ts, body: ts.encode() + b"." + body

    @classmethod
    def from_template(
        cls,
        secret: str,
        template: str = DEFAULT_SIGNED_STRING,
        signature_header: str = "X-Webhook-Signature",
        timestamp_header: str = "X-Webhook-Timestamp",
    ) -> Signer:
        """A signer whose signed string is ``template`` with ``{timestamp}`` and ``{body}`` filled in.

        Raises ``ValueError`` if the secret is not base64 or the template lacks ``{body}``.
        """
        try:
            base64.b64decode(secret, validate=True)
        except ValueError:
            raise ValueError("the webhook secret must be base64, as Daily shows it") from None
        if "{body}" not in template:
            raise ValueError(f"the signed string {template!r} must contain {{body}}")
        head, _, tail = template.partition("{body}")

        def message(ts: str, body: bytes) -> bytes:
            return head.replace("{timestamp}", ts).encode() + body + tail.replace("{timestamp}", ts).encode()

        return cls(secret, signature_header, timestamp_header, message)

    def headers(self, body: bytes, now: float | None = None) -> dict[str, str]:
        ts = str(int(time.time() if now is None else now))
        key = base64.b64decode(self.secret)
        digest = hmac.new(key, self.message(ts, body), hashlib.sha256).digest()
        return {self.signature_header: base64.b64encode(digest).decode(), self.timestamp_header: ts}


@dataclass(frozen=True)
class Delivery:
    """One request to send: ``check`` names the rule it tests, ``expect`` the allowed statuses."""

    check: str
    what: str
    body: bytes
    expect: str  # "2xx", "not-5xx", "4xx", "401/403"
    headers: dict[str, str] = field(default_factory=dict)
    sign: bool = True  # sign with the receiver's signer, if it has one
    sign_at: float | None = None  # sign with this time instead of now


@dataclass(frozen=True)
class Failure:
    """A delivery whose answer broke its rule, with everything needed to reproduce it."""

    check: str
    what: str
    expected: str
    status: int | None
    response: str
    elapsed: float
    curl: str

    def __str__(self) -> str:
        got = f"HTTP {self.status}" if self.status is not None else "no answer"
        return (
            f"[{self.check}] {self.what}: expected {self.expected}, got {got} after {self.elapsed:.2f}s\n"
            f"  response: {_one_line(self.response)}\n  reproduce: {self.curl}"
        )


def _one_line(text: str, limit: int = 300) -> str:
    """A response body on one line, cut at ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _allowed(expect: str, status: int) -> bool:
    if expect == "2xx":
        return 200 <= status < 300
    if expect == "not-5xx":
        return status < 500
    if expect == "4xx":
        return 400 <= status < 500
    if expect == "401/403":
        return status in (401, 403)
    raise ValueError(expect)


def curl_command(url: str, body: bytes, headers: dict[str, str]) -> str:
    """A shell command that sends exactly this request."""
    parts = ["curl", "-i", "-X", "POST", url]
    for name, value in {"Content-Type": "application/json", **headers}.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", body.decode("utf-8", "backslashreplace")]
    return " ".join(shlex.quote(p) for p in parts)


class Receiver:
    """A receiver endpoint: ``post(body, headers) -> (status, text, seconds)``."""

    def __init__(
        self,
        client: Any,
        url: str,
        signer: Signer | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        shown_url: str | None = None,
    ) -> None:
        self.client = client
        self.url = url
        self.signer = signer
        self.timeout = timeout
        self.shown_url = shown_url or url  # the URL in curl reproductions

    @classmethod
    def from_url(cls, url: str, signer: Signer | None = None, timeout: float = DEFAULT_TIMEOUT) -> Receiver:
        import httpx

        return cls(httpx.Client(timeout=timeout), url, signer, timeout)

    @classmethod
    def from_app(
        cls, app: Any, path: str = "/", signer: Signer | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> Receiver:
        """An ASGI app (driven by httpx's ASGI transport) or a WSGI app (httpx's WSGI transport).

        The app is driven in process; ``curl`` reproductions name :data:`APP_SHOWN_BASE` (the
        address of ``uvicorn MODULE:APP`` or ``flask --app MODULE:APP run --port 8000``).
        """
        import httpx

        base = "http://receiver.test"
        if is_asgi(app):
            client: Any = _SyncASGIClient(app, base, timeout)
        else:
            client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url=base, timeout=timeout)
        return cls(client, base + path, signer, timeout, shown_url=APP_SHOWN_BASE + path)

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, float]:
        import httpx

        start = time.perf_counter()
        try:
            response = self.client.post(self.url, content=body, headers={"Content-Type": "application/json", **headers})
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}", time.perf_counter() - start
        return response.status_code, response.text, time.perf_counter() - start

    def send(self, delivery: Delivery) -> Failure | None:
        """Send one delivery; the :class:`Failure` if its answer breaks its rule or is late."""
        headers = dict(delivery.headers)
        if self.signer is not None and delivery.sign:
            headers = {**self.signer.headers(delivery.body, delivery.sign_at), **headers}
        status, text, elapsed = self.post(delivery.body, headers)
        late = elapsed > self.timeout
        if status is not None and _allowed(delivery.expect, status) and not late:
            return None
        expected = delivery.expect + (f" within {self.timeout:g}s" if late else "")
        return Failure(
            delivery.check,
            delivery.what,
            expected,
            status,
            text,
            elapsed,
            curl_command(self.shown_url, delivery.body, headers),
        )

    def close(self) -> None:
        self.client.close()


class _SyncASGIClient:
    """``post``/``close`` over an ASGI app, one event loop per request (httpx's ASGI transport is async only).

    An exception in the app becomes a 500, as a real server would answer.
    """

    def __init__(self, app: Any, base: str, timeout: float) -> None:
        self.app, self.base, self.timeout = app, base, timeout

    def post(self, url: str, content: bytes, headers: dict[str, str]) -> Any:
        import asyncio

        import httpx

        async def go() -> Any:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url=self.base, timeout=self.timeout) as client:
                return await client.post(url, content=content, headers=headers)

        return asyncio.run(go())

    def close(self) -> None:
        pass


def is_asgi(app: Any) -> bool:
    """ASGI apps are ``async def app(scope, receive, send)``; WSGI apps are plain callables."""
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else getattr(app, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(app)


def load_app(spec: str) -> Any:
    """``MODULE:APP`` importable from the current folder (``pkg.mod:app``, ``mod:factory()`` not supported)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"--telephony-receiver-app wants MODULE:APP, got {spec!r}")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


# --- the deliveries ---------------------------------------------------------------------------
def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _examples(body: Body) -> list[dict[str, Any]]:
    files = [schema_file(t) for t in WEBHOOK_TYPES] if body == "webhook" else [f"{a}.schema.json" for a in ACTIONS]
    return [copy.deepcopy(e) for f in files for e in load_schemas()[f]["examples"]]


def _schema_of(body: Body, event: dict[str, Any]) -> dict[str, Any]:
    if body == "webhook":
        return load_schemas()[schema_file(event["type"])]
    return load_schemas()[f"{event['action']}.schema.json"]


class _Ids:
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
    key = "type" if body == "webhook" else "action"
    dump = _Ids(run)
    for event in _examples(body):
        name = event[key]
        yield Delivery("valid", f"documented {name}", dump(event), "2xx")
        schema = _schema_of(body, event)
        nested = "payload" if body == "webhook" else None
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
    first = _examples(body)[0]
    for what, raw in (
        ("a body that is not JSON", b"this is not json"),
        ("an empty body", b""),
        ("a JSON array", b"[]"),
        ("a JSON string", b'"dialin.connected"'),
        ("an object with no type", b'{"hello":"world"}'),
        ("an unknown type", dump({**first, key: "dialin.teleported" if body == "webhook" else "dialin-teleported"})),
    ):
        yield Delivery("non-event", what, raw, "4xx")


def signature_deliveries(body: Body, signer: Signer) -> Iterator[Delivery]:
    """A wrong signature and a stale timestamp, on a valid delivery: each must get 401/403."""
    event = _dumps(_examples(body)[0])
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
    if body != "webhook":
        return
    schemas = load_schemas()

    def make(webhook_type: str, sid: str, ts: int) -> dict[str, Any]:
        event: dict[str, Any] = copy.deepcopy(schemas[schema_file(webhook_type)]["examples"][0])
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


def fuzz_deliveries(
    body: Body = "webhook", strict: bool = False, examples: int = 50, seed: int = 0, run: str = ""
) -> list[Delivery]:
    """Valid and broken bodies generated by schemathesis from the OpenAPI document.

    Generated webhook ids are made unique (the generator likes ``""`` and ``"0"``), as in
    :func:`example_deliveries`.
    """
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    # Our own document has exactly one operation and always loads: the result is never an Err.
    operation = next(iter(schemathesis.openapi.from_dict(build_openapi(body)).get_all_operations())).ok()  # type: ignore[union-attr]
    validator = webhook_union_validator() if body == "webhook" else None
    out: list[Delivery] = []
    broken = "4xx" if strict else "not-5xx"
    dumps = _Ids(f"fuzz{run}")

    def collector(positive: bool) -> Callable[[Any], None]:
        def collect(case: Any) -> None:
            data = case.body
            if isinstance(data, (bytes, bytearray)):  # a negative case may mutate the body to raw bytes
                out.append(Delivery("broken", "a generated raw body", bytes(data), broken))
            elif positive:
                out.append(Delivery("valid", "a generated valid delivery", dumps(data), "2xx"))
            elif validator is None or not validator.is_valid(data):
                out.append(Delivery("broken", "a generated broken delivery", dumps(data), broken))

        return collect

    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
        generate = hypothesis_seed(seed)(
            settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))(
                given(case=operation.as_strategy(mode))(collector(mode is schemathesis.GenerationMode.POSITIVE))
            )
        )
        generate()
    return out


CHECKS: dict[str, str] = {
    "valid": "a valid delivery gets a 2xx",
    "broken": "a broken delivery never gets a 5xx (with strict rejection: a 4xx)",
    "non-event": "a body that is not an event gets a 4xx",
    "signature": "a wrongly signed or stale delivery gets a 401 or 403",
    "stream": "interleaved session streams in order: each delivery gets a 2xx",
    "retry": "the same delivery twice (webhook id repeated): never a 5xx",
    "out-of-order": "deliveries out of order: never a 5xx",
}
"""The check families, in the order they run; each :class:`Delivery` names one."""


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
        planned += fuzz_deliveries(body, strict, fuzz_examples, run=run)
    return [f for d in planned if (f := receiver.send(d)) is not None]
