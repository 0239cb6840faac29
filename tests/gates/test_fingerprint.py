"""Fingerprints are what users' baselines (and code scanning's alerts) hold on to: the digest
of a defect never changes with the way it is computed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.findings import Finding, Severity
from conformance.fingerprint import defect_kind, fingerprint

#: (rule, message, pointer, action, session id, its defect kind, its fingerprint), as they were
#: computed before the defect kind was remembered per message (a baseline may hold them).
PINNED = [
    ('S202', 'dialin-stopped "sessionId" should be a string but is a number 42', '/sessionId', 'dialin-stopped', None, 'dialin-stopped "…" should be a string but is a number #', 'a0712e322398ff0ba5abfa9620b01edb'),  # noqa: E501
    ('S204', 'action "dialin_stopped" is not a Daily telephony event; did you mean "dialin-stopped"?', '/action', 'dialin_stopped', '0001098b-5216-4481-a2ef-515d6dd7dfc6', 'action "…" is not a Daily telephony event; did you mean "…"?', 'a6c1ff35ccc9a80cc5fdbd612d3de046'),  # noqa: E501
    ('L301', 'dialout-answered for session 00003f34-5216-4481-a2ef-515d6dd7dfc6 with no earlier dialout-connected', None, 'dialout-answered', '00003f34-5216-4481-a2ef-515d6dd7dfc6', 'dialout-answered for session <session> with no earlier dialout-connected', '30da427c0a5130a15c3218c618c35b81'),  # noqa: E501
    ('L303', "session s changed its 's' from 'a\\'b' at 0x1F, line 1,234.5 (s-2 is s)", '/s', 'dialout-stopped', 's', "session <session> changed its '…' from '…' at #x#, line # (s-# is <session>)", '62f8698f921c90293adeef102db52d20'),  # noqa: E501
    ('C101', 'line is not valid JSON: unexpected end of data at the end of the line (it is cut short)', None, None, None, 'line is not valid JSON: unexpected end of data at the end of the line (it is cut short)', '4095ea211870bfcfff167addbe0d8a69'),  # noqa: E501
    ('S201', 'dialin-connected is missing required field "provider" (The SIP/PSTN provider)', '/provider', 'dialin-connected', '', 'dialin-connected is missing required field "…" (The SIP/PSTN provider)', '419997c570ad7416a3d9e6b21ddf406e'),  # noqa: E501
    ('S203', 'value "abc… is cut \u00e9 \ud800 at 12_000', '/a~1b/0', None, 'abc', 'value "…" is cut \u00e9 \ud800 at #', '8819f187d2f5208cb6c1dd6d12498351'),  # noqa: E501
]


@pytest.mark.parametrize(("rule", "message", "pointer", "action", "session", "kind", "digest"), PINNED)
def test_fingerprints_are_the_ones_baselines_hold(
    rule: str, message: str, pointer: str | None, action: str | None, session: str | None, kind: str, digest: str
) -> None:
    for _ in range(2):  # computed, then remembered
        finding = Finding(7, rule, Severity.ERROR, message, pointer, action, session)
        assert defect_kind(finding) == kind
        assert fingerprint(finding) == digest


# The defect kind as first written: the session id blanked where it stands as a word, then
# double-quoted text, single-quoted text, hex numbers and numbers, in that order.
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\…]|\\.)*["…]')
_SINGLE_QUOTED = re.compile(r"(?<![A-Za-z])'(?:[^'\\]|\\.)*'")
_HEX = re.compile(r"\b0x[0-9A-Fa-f]+\b")
_NUMBER = re.compile(r"[0-9][0-9,._]*")


def _reference_kind(text: str, session_id: str | None) -> str:
    if session_id:
        out, at = [], 0
        while (found := text.find(session_id, at)) >= 0:
            end = found + len(session_id)
            before = text[found - 1] if found else " "
            after = text[end] if end < len(text) else " "
            word = any(c.isalnum() or c in "_-" for c in (before, after))
            out.append(text[at:end] if word else text[at:found] + "<session>")
            at = end
        out.append(text[at:])
        text = "".join(out)
    text = _DOUBLE_QUOTED.sub('"…"', text)
    text = _SINGLE_QUOTED.sub("'…'", text)
    text = _HEX.sub("0x#", text)
    return _NUMBER.sub("#", text)


_PIECES = st.sampled_from(['"', "'", "\\", "…", "0x", "1", "9,", "._", " ", "-", "_", "a", "F", "s", "é", "id-1"])
_TEXT = st.lists(_PIECES | st.text(max_size=3), max_size=24).map("".join)


@settings(max_examples=500, deadline=None)
@given(message=_TEXT, session=st.none() | st.sampled_from(["", "s", "id-1", "a'", "0x1"]) | st.text(max_size=4))
def test_defect_kind_is_the_first_written_one(message: str, session: str | None) -> None:
    finding = Finding(1, "S201", Severity.ERROR, message, session_id=session)
    assert defect_kind(finding) == _reference_kind(message, session)
    assert defect_kind(finding) == _reference_kind(message, session)  # remembered, the same

