"""The ten telephony events, and what each surface that delivers them calls them.

daily-js and react-native emit event objects named by ``action`` (``dialin-connected``);
Daily's REST webhooks post deliveries named by ``type`` (``dialin.connected``); daily-python
and pipecat call a handler method (``on_dialin_connected``). Each event has a schema file
per surface in ``schemas/``. Every part of the package names events through this module.
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

#: Fields that identify a call and must not change within a session (L305).
IDENTITY_FIELDS: tuple[str, ...] = ("sipCallId", "destination", "origin", "provider")

UNION_SCHEMA = "telephony-event.schema.json"
DEFS_SCHEMA = "defs.schema.json"
WEBHOOK_UNION_SCHEMA = "webhook-event.schema.json"
WEBHOOK_DEFS_SCHEMA = "webhook-defs.schema.json"


def event_schema_file(action: str) -> str:
    """``dialin-ready`` -> ``dialin-ready.schema.json``."""
    return f"{action}.schema.json"


def webhook_schema_file(webhook_type: str) -> str:
    """``dialin.connected`` -> ``webhook-dialin-connected.schema.json``."""
    return "webhook-" + webhook_type.replace(".", "-") + ".schema.json"


def schema_name(file_name: str) -> str:
    """A schema file's name without its suffix, as bundles and OpenAPI components name it:
    ``webhook-dialin-ready.schema.json`` -> ``webhook-dialin-ready``."""
    return file_name.removesuffix(".schema.json")


def is_telephony_family(name: str) -> bool:
    """True for an event name that claims to be telephony: it starts with dialin/dialout."""
    return name.lower().startswith(("dialin", "dialout", "dial-in", "dial-out", "dial_in", "dial_out"))
