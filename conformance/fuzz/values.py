"""Realistic values for the fields of telephony events, and any JSON value.

:data:`REALISTIC` maps the name of a def in ``schemas/defs.schema.json`` to a strategy of
values a real event carries there (E.164 numbers, SIP URIs, UUID session ids, SIP Call-IDs,
daily-js call client ids), odd-but-valid ones included. Every value is valid under its def;
the schema walker (:mod:`.generate`) uses these instead of the def's plain pattern.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

Strategy = st.SearchStrategy


def json_values() -> Strategy[Any]:
    """Any JSON value: null, booleans, numbers JavaScript holds exactly, strings, arrays, objects.

    Arrays and objects are one level deep: deeper nesting finds nothing more in a consumer
    of telephony events, and ``st.recursive`` costs several times as much to draw.
    """
    return _JSON_VALUES


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
_JSON_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=10), _SCALARS, max_size=3),
)


_COUNTRY_CODES = ("1", "44", "33", "49", "61", "81", "91", "55", "353", "972")
_HOSTS = ("sip.daily.co", "daily-2358023-app.dapp.signalwire.com", "example.com", "pbx.example.org:5061", "10.0.0.7")
_DIGITS = "0123456789"

# Each realistic value is ONE hypothesis draw from a pool built once, at import, from a fixed
# seed (generation speed: README, "Speed and memory"). A pool's first entry is the documented
# example, so values shrink to it; the pools also hold odd-but-valid values (an empty session
# id, a two-digit E.164 number, a SIP URI with no '@'), because the schemas allow them and
# consumers meet them.
_RNG = random.Random(20240601)


def _pool(
    first: Sequence[str], make: Callable[[random.Random], str], n: int = 48, odd: Sequence[str] = ()
) -> list[str]:
    out = list(dict.fromkeys([*first, *(make(_RNG) for _ in range(n)), *odd]))
    return out


def _make_e164(r: random.Random) -> str:
    cc = r.choice(_COUNTRY_CODES)
    return "+" + cc + "".join(r.choice(_DIGITS) for _ in range(r.choice((10, 10, 9, 11)) - len(cc) + 1))


def _make_sip_uri(r: random.Random) -> str:
    user = r.choice(("room-name", "myroom.0", "callee", "bot_7", "alice", _make_e164(r)))
    params = r.choice(("", "", ";transport=tcp", ";user=phone", ";transport=tls;lr"))
    return f"{r.choice(('sip', 'sip', 'sips', 'SIP'))}:{user}@{r.choice(_HOSTS)}{params}"


_E164 = _pool(["+12098888888", "+13977888822"], _make_e164, odd=["+10", "+999999999999999", "+4420"])
_SIP_URIS = _pool(
    ["sip:room-name@sip.daily.co", "sip:callee@example.com", "sip:myroom.0@daily-2358023-app.dapp.signalwire.com"],
    _make_sip_uri,
    odd=["sIpS:x", "sip:üser@hôst.example", "sip:+12098888888@10.0.0.7;user=phone", "sip:room%20name@h", "sips:a"],
)
_UUIDS = _pool(
    ["a64d30f4-5216-4481-a2ef-515d6dd7dfc6", "7d208e2a-520b-4a8d-a2c9-3a36dfa0d342"],
    lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    n=64,
)
_ODD_IDS = ["", "0", "session id with spaces", "ünïcødé-☎", "x" * 80]
_CALL_CLIENT_IDS = _pool(
    ["17225364729060.9442072768918943"],
    lambda r: f"{r.randrange(10**13, 10**14)}.{r.randrange(10**15, 10**16)}",
    n=32,
    odd=["", "1"],
)
_SIP_CALL_IDS = _pool(
    ["abc123@sip.daily.co"],
    lambda r: r.choice((f"{r.getrandbits(64):x}@{r.choice(_HOSTS)}", str(uuid.UUID(int=r.getrandbits(128))))),
    odd=["", "a84b4c76e66710@pc33.atlanta.com", "Call-ID with spaces"],
)
_SIP_FROMS = _pool(
    ["sip:caller@example.com", '"Bob" <sip:bob@biloxi.example.com>;tag=a6c85cf'],
    lambda r: r.choice((_make_sip_uri(r), _make_e164(r), f'"Caller" <{_make_sip_uri(r)}>;tag={r.getrandbits(32):x}')),
    n=24,
    odd=["", "anonymous"],
)
_HEADER_NAMES = ("X-Daily-Room", "X-Customer-Id", "User-Agent", "From", "To", "P-Asserted-Identity", "X-Retry", "x")
_HEADER_TEXT = ("daily-room-1", "Twilio Gateway", "<sip:+12098888888@10.0.0.7>", "", "42")


def _e164() -> Strategy[str]:
    return st.sampled_from(_E164)


def _sip_uri() -> Strategy[str]:
    return st.sampled_from(_SIP_URIS)


def header_names() -> Strategy[str]:
    """SIP header names, as a header map's keys."""
    return st.sampled_from(_HEADER_NAMES)


def _sip_headers() -> Strategy[dict[str, Any]]:
    # D19: dial-in sipHeaders values may be of any JSON type; a consumer must not assume strings.
    return st.dictionaries(header_names(), st.one_of(st.sampled_from(_HEADER_TEXT), json_values()), max_size=4)


#: Realistic value strategies keyed by the def name in ``defs.schema.json``; each value must
#: be valid under its def. A def with no entry gets the plain schema-driven generator.
REALISTIC: dict[str, Callable[[], Strategy[Any]]] = {
    "e164": _e164,
    "sipUri": _sip_uri,
    "callClientId": lambda: st.sampled_from(_CALL_CLIENT_IDS),
    "sessionId": lambda: st.sampled_from([*_UUIDS, *_ODD_IDS]),
    "sipCallId": lambda: st.sampled_from(_SIP_CALL_IDS),
    "provider": lambda: st.sampled_from(("daily", "signalwire", "twilio", "")),
    "userId": lambda: st.sampled_from(["user_123", "bot", "", "ユーザー", *_UUIDS[:8]]),
    "actionTraceId": lambda: st.sampled_from([*_UUIDS[8:24], ""]),
    "errorMsg": lambda: st.sampled_from(
        (
            "SDP negotiation failed",
            "DialOut failed with error: process error, Channel closed",
            "Requested codec unavailable, using fallback",
            "",
            "Erreur: délai dépassé ☎",
        )
    ),
    "sipFrom": lambda: st.sampled_from(_SIP_FROMS),
    "callerId": lambda: st.sampled_from([*_E164[:12], *_UUIDS[24:32]]),
    "sipHeaders": _sip_headers,
}

#: The pattern each realistic generator of a pattern def was written for. When the schema's
#: pattern differs (the schema changed), the realistic generator is not used and values come
#: from ``st.from_regex`` of the new pattern alone, so generated values stay valid.
REALISTIC_PATTERNS: dict[str, str] = {
    "e164": r"^\+[1-9][0-9]{1,14}$",
    "sipUri": r"^[sS][iI][pP][sS]?:[^ \t\r\n]+$",
}
