"""The ten telephony events, and what each surface that delivers them calls them.

daily-js and react-native emit event objects named by ``action`` (``dialin-connected``);
Daily's REST webhooks post deliveries named by ``type`` (``dialin.connected``); daily-python
and pipecat call a handler method (``on_dialin_connected``), which a capture records as a
``{"handler": …, "data": …}`` line. Each event has a schema file per surface in
``schemas/``. Every part of the package names events through this module.
"""

from __future__ import annotations

#: The ten telephony actions, dial-in first, in lifecycle order.
ACTIONS: tuple[str, ...] = (
    "dialin-ready",
    "dialin-connected",
    "dialin-stopped",
    "dialin-error",
    "dialin-warning",
    "dialout-connected",
    "dialout-answered",
    "dialout-stopped",
    "dialout-error",
    "dialout-warning",
)

#: The ten webhook types, in the order of :data:`ACTIONS`.
WEBHOOK_TYPES: tuple[str, ...] = tuple(action.replace("-", ".", 1) for action in ACTIONS)
#: Webhook type -> the client event's action (``dialin.connected`` -> ``dialin-connected``).
ACTION_OF: dict[str, str] = dict(zip(WEBHOOK_TYPES, ACTIONS, strict=True))
#: Client action -> webhook type.
TYPE_OF: dict[str, str] = dict(zip(ACTIONS, WEBHOOK_TYPES, strict=True))
#: Client action -> the daily-python ``EventHandler`` method (and pipecat event name) for it.
HANDLER_METHODS: dict[str, str] = {action: "on_" + action.replace("-", "_") for action in ACTIONS}
#: daily-python handler -> the client event's action (``on_dialin_ready`` -> ``dialin-ready``).
ACTION_OF_HANDLER: dict[str, str] = {handler: action for action, handler in HANDLER_METHODS.items()}

#: The surfaces, as the JSON report counts events per surface.
SURFACES: tuple[str, ...] = ("daily-js", "daily-python", "webhook")

#: The keys daily-python's documentation gives each handler's data (PY-SRC types.rst, 9.1): a
#: handler written from those docs reads them. The docs mark none optional; 'message' is left
#: out of dial-out connected, answered and stopped, whose compiled message structs hold fewer
#: fields than DialoutEvent documents (9.1), and sessionId is optional on dial-out error and
#: warning all the same (L12).
DAILY_PYTHON_DOCUMENTED: dict[str, tuple[str, ...]] = {
    "dialin-connected": ("sessionId", "actionTraceId", "displayName", "sipFrom", "sipHeaders"),
    "dialin-stopped": ("sessionId", "actionTraceId", "sipFrom", "sipHeaders"),
    "dialin-error": ("sessionId", "actionTraceId", "message"),
    "dialin-warning": ("sessionId", "actionTraceId", "message"),
    "dialout-connected": ("sessionId", "actionTraceId"),
    "dialout-answered": ("sessionId", "actionTraceId"),
    "dialout-stopped": ("sessionId", "actionTraceId"),
    "dialout-error": ("sessionId", "actionTraceId", "message"),
    "dialout-warning": ("sessionId", "actionTraceId", "message"),
}

#: Fields that identify a call and must not change within a session (L305).
IDENTITY_FIELDS: tuple[str, ...] = ("sipCallId", "destination", "origin", "provider")

UNION_SCHEMA = "telephony-event.schema.json"
DEFS_SCHEMA = "defs.schema.json"
WEBHOOK_UNION_SCHEMA = "webhook-event.schema.json"
WEBHOOK_DEFS_SCHEMA = "webhook-defs.schema.json"
DAILY_PYTHON_RECORD_SCHEMA = "daily-python-record.schema.json"
PINLESS_DIALIN_SCHEMA = "pinless-dialin.schema.json"
REPORT_SCHEMA = "report.schema.json"


def event_schema_file(action: str) -> str:
    """``dialin-ready`` -> ``dialin-ready.schema.json``."""
    return f"{action}.schema.json"


def webhook_schema_file(webhook_type: str) -> str:
    """``dialin.connected`` -> ``webhook-dialin-connected.schema.json``."""
    return "webhook-" + webhook_type.replace(".", "-") + ".schema.json"


def daily_python_schema_file(action: str) -> str:
    """``dialin-connected`` -> ``daily-python-dialin-connected.schema.json`` (its handler's data)."""
    return f"daily-python-{action}.schema.json"


def schema_name(file_name: str) -> str:
    """A schema file's name without its suffix, as bundles and OpenAPI components name it:
    ``webhook-dialin-ready.schema.json`` -> ``webhook-dialin-ready``."""
    return file_name.removesuffix(".schema.json")


def is_telephony_family(name: str) -> bool:
    """True for an event name that claims to be telephony: it starts with dialin/dialout."""
    return name.lower().startswith(("dialin", "dialout", "dial-in", "dial-out", "dial_in", "dial_out"))


def is_telephony_handler(name: str) -> bool:
    """True for a handler name that claims to be telephony: ``on_`` and a telephony name."""
    lowered = name.lower()
    return lowered.startswith(("on_", "on-")) and is_telephony_family(lowered[3:])
