"""The receiver plugin: ``pytest --telephony-receiver-app MODULE:APP`` or ``--telephony-receiver-url URL``.

Drives an HTTP receiver of Daily's telephony webhooks (or of forwarded client events) with
the deliveries of :mod:`conformance.receivers` and fails, one test item per check family
(``valid``, ``broken``, ``non-event``, ``signature``, ``stream``, ``retry``,
``out-of-order``), listing each bad answer with the request as a ``curl`` command.

The module imports nothing beyond pytest and the standard library, so it is harmless to
users without the ``receivers`` extra: schemathesis and httpx are imported only when a
receiver option is given (and a missing one is a usage error naming the extra).

When a receiver option is given and no test paths are, only the receiver is tested: the
project's own test files are not collected, so the command works in any folder, with or
without a conftest. Each item stands alone (the retry item sends the first delivery
itself), so ``-k``, ``-x`` and xdist work; in app mode each process imports the app.
"""

from __future__ import annotations

import importlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .pytest_items import GeneratedCollector, ReportedFailure, ReportingItem, skip_project_tests

if TYPE_CHECKING:  # annotations only: the runtime imports stay lazy
    from .openapi import Body
    from .receivers import Delivery, Receiver, Signer

_STATE = pytest.StashKey["_ReceiverState"]()
_MAX_SHOWN = 10  # failures shown per failing item; the rest are counted
DEFAULT_EXAMPLES = 50
EXTRA_HINT = "pip install 'telephony-conformance[receivers]'"


@dataclass
class _ReceiverState:
    url: str | None
    app_spec: str | None
    app: Any
    path: str
    body: Body
    strict: bool
    signer: Signer | None
    timeout: float
    examples: int
    max_shown: int
    from_command_line: bool
    run: str = field(default_factory=lambda: secrets.token_hex(3))
    _receiver: Receiver | None = None
    _generated: list[Delivery] | None = None

    def planned(self, check: str) -> list[Delivery]:
        """One check family's deliveries; schemathesis generates once per process, for both families."""
        from .receivers import deliveries, fuzz_deliveries

        out = deliveries(check, self.body, self.strict, self.signer, 0, self.run)
        if check in ("valid", "broken") and self.examples:
            if self._generated is None:
                self._generated = fuzz_deliveries(self.body, self.strict, self.examples, run=self.run)
            out += [d for d in self._generated if d.check == check]
        return out

    @property
    def target(self) -> str:
        if self.url is not None:
            return self.url
        return f"{self.app_spec}" if self.path == "/" else f"{self.app_spec} {self.path}"

    def receiver(self) -> Receiver:
        """The receiver, opened once per process, on first use."""
        if self._receiver is None:
            from .receivers import Receiver

            if self.url is not None:
                self._receiver = Receiver.from_url(self.url, self.signer, self.timeout)
            else:
                self._receiver = Receiver.from_app(self.app, self.path, self.signer, self.timeout)
        return self._receiver

    def close(self) -> None:
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("telephony-receivers", "Daily telephony webhook receivers (the 'receivers' extra)")
    group.addoption(
        "--telephony-receiver-url",
        metavar="URL",
        default=None,
        help="test a running receiver: the full URL its deliveries are POSTed to",
    )
    group.addoption(
        "--telephony-receiver-app",
        metavar="MODULE:APP",
        default=None,
        help="test an ASGI or WSGI app in process; MODULE is importable from the current folder",
    )
    group.addoption(
        "--telephony-receiver-path",
        metavar="PATH",
        default="/",
        help="the receiving endpoint's path in the app (default /)",
    )
    group.addoption(
        "--telephony-receiver-body",
        choices=("webhook", "client"),
        default="webhook",
        help="what the receiver takes: Daily's webhook deliveries (default) or forwarded client events",
    )
    group.addoption(
        "--telephony-strict-rejection",
        action="store_true",
        default=False,
        help="a recognisable event with a broken field must get a 4xx (by default any non-5xx answer passes)",
    )
    group.addoption(
        "--telephony-webhook-secret",
        metavar="BASE64",
        default=None,
        help="the receiver verifies signatures: sign every delivery with this secret (base64, as Daily shows "
        "it) and check that wrongly signed and stale deliveries get a 401 or 403",
    )
    group.addoption(
        "--telephony-signed-string",
        metavar="TEMPLATE",
        default=None,
        help="the string the signature is computed over (default '{timestamp}.{body}'); "
        "{timestamp} and {body} are filled in",
    )
    group.addoption(
        "--telephony-signature-header",
        metavar="NAME",
        default="X-Webhook-Signature",
        help="the header carrying the signature (default X-Webhook-Signature)",
    )
    group.addoption(
        "--telephony-timestamp-header",
        metavar="NAME",
        default="X-Webhook-Timestamp",
        help="the header carrying the signing time (default X-Webhook-Timestamp)",
    )
    group.addoption(
        "--telephony-receiver-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="every answer must come within this time (default 5)",
    )
    group.addoption(
        "--telephony-receiver-examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        metavar="N",
        help=f"bodies generated by schemathesis per mode, valid and broken (default {DEFAULT_EXAMPLES}; 0: none)",
    )
    group.addoption(
        "--telephony-receiver-max-failures",
        type=int,
        default=_MAX_SHOWN,
        metavar="N",
        help=f"failures shown per failing check (default {_MAX_SHOWN}); the rest are counted",
    )


def _require_extra() -> None:
    missing = [name for name in ("schemathesis", "httpx") if not _importable(name)]
    if missing:
        raise pytest.UsageError(
            f"telephony-conformance: testing a receiver needs {' and '.join(missing)}: {EXTRA_HINT}"
        )


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def pytest_configure(config: pytest.Config) -> None:
    url: str | None = config.getoption("telephony_receiver_url")
    app_spec: str | None = config.getoption("telephony_receiver_app")
    if url is None and app_spec is None:
        return
    if url is not None and app_spec is not None:
        raise pytest.UsageError(
            "telephony-conformance: give --telephony-receiver-url or --telephony-receiver-app, not both"
        )
    _require_extra()
    from .receivers import Signer, load_app

    path: str = config.getoption("telephony_receiver_path")
    if not path.startswith("/"):
        raise pytest.UsageError(f"telephony-conformance: --telephony-receiver-path {path!r} must start with '/'")
    if url is not None and not url.startswith(("http://", "https://")):
        raise pytest.UsageError(f"telephony-conformance: --telephony-receiver-url {url!r} must be an http(s) URL")
    timeout: float = config.getoption("telephony_receiver_timeout")
    if timeout <= 0:
        raise pytest.UsageError("telephony-conformance: --telephony-receiver-timeout must be positive")
    signer = None
    secret: str | None = config.getoption("telephony_webhook_secret")
    if secret is not None:
        try:
            signer = Signer.from_template(
                secret,
                config.getoption("telephony_signed_string") or "{timestamp}.{body}",
                config.getoption("telephony_signature_header"),
                config.getoption("telephony_timestamp_header"),
            )
        except ValueError as exc:
            raise pytest.UsageError(f"telephony-conformance: {exc}") from None
    app = None
    if app_spec is not None:
        try:
            app = load_app(app_spec)
        except ValueError as exc:
            raise pytest.UsageError(f"telephony-conformance: {exc}") from None
        except (ImportError, AttributeError) as exc:
            raise pytest.UsageError(
                f"telephony-conformance: cannot load {app_spec!r} from {Path.cwd()}: {type(exc).__name__}: {exc}"
            ) from None
    config.stash[_STATE] = _ReceiverState(
        url=url,
        app_spec=app_spec,
        app=app,
        path=path,
        body=config.getoption("telephony_receiver_body"),
        strict=config.getoption("telephony_strict_rejection"),
        signer=signer,
        timeout=timeout,
        examples=max(0, config.getoption("telephony_receiver_examples")),
        max_shown=max(1, config.getoption("telephony_receiver_max_failures")),
        from_command_line=True,
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return None
    mode = f"url {state.url}" if state.url is not None else f"app {state.app_spec} at {state.path}"
    flags = [f"{state.body} bodies", f"timeout {state.timeout:g}s", f"{state.examples} generated per mode"]
    if state.strict:
        flags.append("strict rejection")
    flags.append("signed" if state.signer is not None else "unsigned")
    return f"telephony-conformance receiver: {mode} ({', '.join(flags)})"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    state = config.stash.get(_STATE, None)
    return skip_project_tests(config, state is not None and state.from_command_line)


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection, so those select our items too
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    from .receivers import CHECKS

    receiver = ReceiverCollector.from_parent(session, name=state.target, nodeid=f"telephony-receiver::{state.target}")
    for check in CHECKS:
        items.append(ReceiverCheckItem.from_parent(receiver, name=check, check=check))


class ReceiverCollector(GeneratedCollector):
    """The receiver under test; its children are created by the plugin, one per check family."""


class ReceiverCheckFailure(ReportedFailure):
    """Raised by a :class:`ReceiverCheckItem` some of whose deliveries got a wrong answer."""


class ReceiverCheckItem(ReportingItem):
    """Sends one check family's deliveries; fails listing each bad answer and its ``curl``."""

    def __init__(self, *, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        from .receivers import CHECKS

        state: _ReceiverState = self.config.stash[_STATE]
        if self.check == "signature" and state.signer is None:
            pytest.skip("no --telephony-webhook-secret: signatures are not checked")
        planned = state.planned(self.check)
        if not planned:
            pytest.skip(f"{self.check}: does not apply to {state.body} bodies")
        receiver = state.receiver()
        failures = [f for d in planned if (f := receiver.send(d)) is not None]
        if not failures:
            return
        lines = [f"{len(failures)} of {len(planned)} deliveries broke [{self.check}]: {CHECKS[self.check]}"]
        if state.url is None:
            lines.append(
                f"(the app ran in process; the curl lines assume it is served at {receiver.shown_url}, "
                f"e.g. by `uvicorn {state.app_spec} --port 8000`)"
            )
        lines += [str(f) for f in failures[: state.max_shown]]
        if len(failures) > state.max_shown:
            lines.append(f"... and {len(failures) - state.max_shown} more (--telephony-receiver-max-failures)")
        raise ReceiverCheckFailure("\n".join(lines))

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        state = self.config.stash.get(_STATE, None)
        target = state.target if state is not None else "receiver"
        return target, None, f"{target}::{self.check}"


def plugin_is_registered() -> bool:
    """Whether this module is a ``pytest11`` entry point of an installed distribution.

    Then pytest loads it by itself, and ``-p conformance.receiver_plugin`` would register it a
    second time under another name (an error): tests pass ``-p`` only when this is false.
    """
    from importlib.metadata import entry_points

    return any(ep.value == __name__ for ep in entry_points(group="pytest11"))


__all__ = ["ReceiverCheckItem", "ReceiverCollector", "plugin_is_registered"]
