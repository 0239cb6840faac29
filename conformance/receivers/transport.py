"""Sending deliveries to a receiver: a running server (a URL), or an ASGI or WSGI app driven in
process, with the answer timed and judged, and a ``curl`` command that reproduces each request.
"""

from __future__ import annotations

import inspect
import shlex
import time
from typing import Any

from .checks import Delivery, Failure, allowed
from .signing import Signer

DEFAULT_TIMEOUT = 5.0
#: Where ``curl`` reproductions send an app's requests: ``uvicorn MODULE:APP`` serves it there.
APP_SHOWN_BASE = "http://127.0.0.1:8000"


def curl_command(url: str, body: bytes, headers: dict[str, str]) -> str:
    """A shell command that sends exactly this request.

    A body of printable UTF-8 is given as it is; any other (bytes that are not UTF-8, a NUL,
    control characters, or a leading ``@``, which curl takes for a file name) is written by
    ``printf`` from octal escapes and piped in (``--data-binary @-``), byte for byte, and
    nothing of it reaches the terminal raw.
    """
    parts = ["curl", "-i", "-X", "POST", url]
    for name, value in {"Content-Type": "application/json", **headers}.items():
        parts += ["-H", f"{name}: {value}"]
    text = _plain(body)
    if text is not None:
        return " ".join(shlex.quote(p) for p in [*parts, "--data-binary", text])
    return f"printf '{_printf_escaped(body)}' | " + " ".join(shlex.quote(p) for p in [*parts, "--data-binary", "@-"])


def _plain(body: bytes) -> str | None:
    """The body as text when it can be shown and passed as it is, else ``None``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.startswith("@") or not all(ch.isprintable() or ch in "\t\n" for ch in text):
        return None
    return text


#: Bytes that ``printf`` writes as they are inside single quotes.
_PRINTF_SAFE = frozenset(range(0x20, 0x7F)) - {ord("'"), ord("\\"), ord("%")}


def _printf_escaped(body: bytes) -> str:
    """``body`` as a ``printf`` format string that writes exactly its bytes (POSIX octal escapes)."""
    return "".join(chr(b) if b in _PRINTF_SAFE else f"\\{b:03o}" for b in body)


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
        self.notes: list[str] = []  # answers that passed, but not as well as recommended
        self.unreachable: str | None = None  # why a connection could not be made, once one could not

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
            transport = httpx.WSGITransport(app=_ServerError(app))
            client = httpx.Client(transport=transport, base_url=base, timeout=timeout)
        return cls(client, base + path, signer, timeout, shown_url=APP_SHOWN_BASE + path)

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, float]:
        import httpx

        start = time.perf_counter()
        try:
            response = self.client.post(self.url, content=body, headers={"Content-Type": "application/json", **headers})
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self.unreachable = f"{exc}" or type(exc).__name__
            return None, f"{type(exc).__name__}: {exc}", time.perf_counter() - start
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
        if status is not None and allowed(delivery.expect, status) and not late:
            if delivery.recommended is not None and not allowed(delivery.recommended, status):
                self.notes.append(f"{delivery.what} got HTTP {status}; {delivery.recommended} is recommended")
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


class _ServerError:
    """A WSGI app whose exception becomes a 500, as a real server answers it (the ASGI
    transport does the same); without this, the exception ended the whole check."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        result: Any = None
        try:
            result = self.app(environ, start_response)
            return list(result)  # a generator raises while it is read
        except Exception as exc:  # the app's own error, whatever it is
            text = f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [text]
        finally:
            close = getattr(result, "close", None)
            if callable(close):
                close()


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
