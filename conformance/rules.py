"""The rule registry: every finding the checker can produce has a rule here.

Ids are stable and never reused. The first letter says which stage checks it:
``C`` the capture (syntax, one line at a time), ``S`` an event against its schema,
``L`` a session's lifecycle. The README's rule table is generated from :data:`RULES`
(``telephony-conformance rules --write-readme README.md``), and a test fails when it is stale.

Severities follow the facts in Daily's sources (ids ``L1``…``L22``, ``D1``…``D24`` refer
to the lifecycle facts and discrepancies collected in the project's reference notes):
``error`` where no source allows the shape or order, ``warning`` where a source leaves it
open and the finding is only really doubtful. The test for a lifecycle rule: what a real,
correctly recorded capture can show is never an error. A client that joins mid-call sees
an answered without its connected (L301) or a stop without its start (L302): warnings. An
event after its session's end (L303; the other terminal event excepted, L13), one id in both
directions (L304), a call's identity changing (L305) and a step repeated (L306) need two
events of one session that no source allows together: errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .escape import printable
from .findings import FIELD_LIMIT, Finding, Severity, cut


@dataclass(frozen=True)
class Rule:
    """One rule: what it checks, how bad a violation is, why, and what a violation looks like."""

    id: str
    name: str
    severity: Severity
    summary: str
    rationale: str
    example: str
    #: Where the fix for a finding usually lies. A capture is evidence: the fix is in the
    #: recorder, a forwarder, or a report to Daily, rarely in "the events".
    fix: str = ""

    def finding(self, line: int, message: str, **about: str | None) -> Finding:
        """A violation of this rule at ``line``; ``about`` fills in the optional fields
        (``pointer``, ``action``, ``session_id``, ``hint``).

        Every text is bounded (:data:`~.findings.FIELD_LIMIT`) and made printable here, the one
        place findings are made: they quote what a capture holds, and every report prints them
        (:mod:`conformance.escape`)."""
        pointer, action, session_id, hint = (
            None if (text := about.get(key)) is None else _shown(text) for key in _ABOUT
        )
        return Finding(line, self.id, self.severity, _shown(message), pointer, action, session_id, hint)


#: The optional fields of a finding, in :class:`Finding`'s order.
_ABOUT = ("pointer", "action", "session_id", "hint")


def _shown(text: str) -> str:
    return printable(cut(text, FIELD_LIMIT) if len(text) > FIELD_LIMIT else text)


RULES: dict[str, Rule] = {}


def _rule(id: str, name: str, severity: Severity, summary: str, rationale: str, example: str, fix: str = "") -> Rule:
    if id in RULES:  # pragma: no cover - guards the registry itself
        raise ValueError(f"rule id {id} registered twice")
    RULES[id] = rule = Rule(id, name, severity, summary, rationale, example, fix)
    return rule


E, W = Severity.ERROR, Severity.WARNING

# --- capture: one line at a time --------------------------------------------------------
INVALID_JSON = _rule(
    "C101", "invalid-json", E, "A line is not valid JSON.",
    "NDJSON is one JSON value per line; a line that does not parse cannot be checked.",
    '{"action": "dialin-ready", ',
    fix="The recorder wrote a line that is not JSON (a write cut short, two events on one line): make it write each event with a JSON library, one per line.")
NOT_AN_OBJECT = _rule(
    "C102", "not-an-object", E, "A line is valid JSON but not an object.",
    "Every Daily event is a JSON object (JSDOC, DTS).",
    '["dialin-ready"]',
    fix="The recorder wrote something other than the event object on this line: record the object the SDK or webhook hands over.")
NON_FINITE_NUMBER = _rule(
    "C103", "non-finite-number", E, "A line uses NaN, Infinity or a number too large for a double.",
    "NaN and Infinity are not JSON (RFC 8259); Python's json module accepts them, JavaScript's JSON.parse does not, so consumers disagree.",
    '{"action": "dialout-warning", "retry": NaN}',
    fix="The recorder or a forwarder wrote NaN or Infinity: serialise with a strict JSON encoder (Python: json.dumps(allow_nan=False)).")
DUPLICATE_KEY = _rule(
    "C104", "duplicate-key", E, "An object has the same key twice.",
    "RFC 8259 leaves duplicate names undefined: some parsers keep the first value, others the last, so two consumers can see two different events.",
    '{"action": "dialin-stopped", "sessionId": "a", "sessionId": "b"}',
    fix="The recorder or a forwarder builds JSON by hand and repeats a key: serialise the event with a JSON library.")
INVALID_UTF8 = _rule(
    "C105", "invalid-utf8", E, "A line is not valid UTF-8.",
    "JSON exchanged between systems must be UTF-8 (RFC 8259 §8.1).",
    '{"action": "dialin-ready", "sipEndpoint": "sip:\\xff@host"}  (a raw 0xFF byte)',
    fix="The capture was written in another encoding, or bytes were cut mid-character: write it as UTF-8.")
BYTE_ORDER_MARK = _rule(
    "C106", "byte-order-mark", W, "The capture starts with a UTF-8 byte order mark.",
    "RFC 8259 §8.1: implementations must not add a BOM; many NDJSON readers choke on it. The line is still checked.",
    "\\xEF\\xBB\\xBF{\"action\": \"dialin-ready\", …}",
    fix="Write the capture as UTF-8 without a byte order mark (Python: encoding='utf-8', not 'utf-8-sig').")
LINE_TOO_LONG = _rule(
    "C107", "line-too-long", E, "A line is longer than the checker's line limit (8 MiB by default).",
    "A telephony event is well under a kilobyte; a line this long is a broken capture (a missing newline, a binary blob) and is skipped to keep memory bounded.",
    "(a single 100 MB line)",
    fix="The recorder lost a newline or wrote a binary blob: check that it ends every event with a newline.")
TOO_DEEP = _rule(
    "C108", "too-deep", E, "A line nests arrays or objects more than 1024 levels deep.",
    "No Daily event nests more than three levels; such a line is garbage and would exhaust recursive consumers.",
    "[[[[[[[[ … 100,000 levels … ]]]]]]]]",
    fix="This line is not an event: check what the recorder writes.")
MISSING_ACTION = _rule(
    "C109", "missing-action", E, "An object has neither a string `action` (a client event) nor a webhook `type`, so it cannot be identified.",
    "Every daily-js/react-native event object carries its name in `action` (DTS DailyEventObjectBase); every webhook delivery carries `type` (WH envelope, 4).",
    '{"sessionId": "a64d30f4-…", "provider": "daily"}',
    fix="Record the event as the SDK hands it over (with its action), or the webhook body as Daily posts it (with its type): a forwarder that drops or renames them hides what the event is.")
UNREADABLE = _rule(
    "C110", "unreadable", E, "The capture could not be read, or not to its end (no permission, a truncated or corrupt gzip file, a file truncated while it is checked, a decompression bomb, an I/O error).",
    "What cannot be read cannot pass: a file or folder without permission is reported as grep -r does, and for a capture that breaks off, the lines before the break were checked.",
    "captured.ndjson.gz cut off in the middle",
    fix="Give the check permission to read the path, or record or copy a capture that was cut off or corrupted again.")
NO_TELEPHONY_EVENTS = _rule(
    "C111", "no-telephony-events", E, "The capture holds no telephony event at all.",
    "A check that saw nothing must not pass: the capture is probably the wrong file or the recorder was not listening. Use --allow-empty when an empty capture is expected.",
    "(an empty file, or only participant-joined events)",
    fix="Check that this is the right file and that the recorder listens to the dialin-*/dialout-* events; pass --allow-empty if no call was expected.")
REQUIRED_ACTION_MISSING = _rule(
    "C112", "required-action-missing", E, "An action that --require-actions lists never appears in the capture.",
    "A team lists the steps its test calls must reach (dial-out answered, dial-in error) so that a capture that never exercised them cannot pass; an event counts by any surface's name for it (action, webhook type, daily-python handler), valid or not.",
    "--require-actions dialout-answered on a capture whose calls were never answered",
    fix="Make the test calls reach this step (or record its events), or drop the action from --require-actions.")
STALE_BASELINE_ENTRY = _rule(
    "C113", "stale-baseline-entry", E, "An entry of the --baseline file matches no finding of the run.",
    "A known finding is a suppression: once its defect is fixed, its entry must go, or it would hide the defect's return. Entries match by rule, event, field and kind of defect, never by line or value, so a capture recorded again still matches.",
    "an S201 entry for dialin-connected /sessionId after the recorder was fixed",
    fix="Remove the entry from the baseline file (or write it again with --write-baseline).")

# --- events: one event against its schema -----------------------------------------------
MISSING_FIELD = _rule(
    "S201", "missing-required-field", E, "A telephony event lacks a field its schema requires.",
    "The current daily-js page lists the field without 'Optional' and daily-js 0.92.2 types it without '?' (JSDOC, DTS; D7, D8, D9).",
    '{"action": "dialin-connected", "callClientId": "1", "sipCallId": "c", "provider": "daily"}  (no sessionId)',
    fix="Check whether the recorder or a forwarder dropped the field; if the line holds the event exactly as Daily sent it, report it to Daily with the line.")
WRONG_TYPE = _rule(
    "S202", "wrong-type", E, "A field of a telephony event has the wrong JSON type.",
    "Every field's type is fixed by JSDOC and DTS; only dialin-error.type admits null (D10, 2.11).",
    '{"action": "dialout-stopped", …, "sessionId": 42}',
    fix="A forwarder that converts values (a number to a string, an object to text) is the usual cause; if the line holds the event exactly as Daily sent it, report it to Daily.")
INVALID_VALUE = _rule(
    "S203", "invalid-value", E, "A field has the right type but a value no source allows (not an E.164 number or SIP URI, an unknown error type …).",
    "JSDOC: destination/origin are 'E.164 format or SIP URI', sipEndpoint is a SIP URI; dialin-error.type is 'start-failed' or null (JSDOC, DTS; D10).",
    '{"action": "dialout-connected", …, "destination": "12098888888"}',
    fix="Check whether a forwarder rewrote the value (dropped the + of a phone number, say); if the line holds the event exactly as Daily sent it, report it to Daily.")
UNKNOWN_TELEPHONY_ACTION = _rule(
    "S204", "unknown-telephony-action", E, "An event's name (its `action`, webhook `type` or daily-python handler) starts with dialin/dialout but is not one of the ten telephony events.",
    "Daily emits exactly ten telephony events (DTS DailyEvent union, WH index); `dialin_connected` or `dialout-answerd` is a typo in a forwarder.",
    '{"action": "dialin_connected", …}',
    fix="A typo or a renamed event in the recorder or a forwarder: use Daily's event name (the message suggests one).")
UNDOCUMENTED_FIELD = _rule(
    "S205", "undocumented-field", W, "(strict only) An event carries a field its schema does not document.",
    "Unknown fields are allowed, because Daily adds fields over time (D6, D20, D24); strict mode lists them so a team notices a new or misspelt field.",
    '{"action": "dialin-ready", …, "sipEndpiont": "sip:…"}',
    fix="If Daily added the field, nothing is wrong (it passes without --strict); if your code added or misspelt it, fix the code.")

# --- lifecycles: per (callClientId, sessionId) ------------------------------------------
ANSWERED_WITHOUT_CONNECTED = _rule(
    "L301", "answered-without-connected", W, "A dialout-answered arrives with no earlier dialout-connected in its session.",
    "Ringing (connected) comes before answered (L9, L10), but no Daily doc states the order, and a Daily engineer ties connected to 200 OK (L10): doubtful, not wrong.",
    "dialout-answered for session 7d20… as the session's first event",
    fix="The recorder lost or reordered the session's dialout-connected; if the capture began mid-call, check it with --partial.")
STOPPED_WITHOUT_START = _rule(
    "L302", "stopped-without-start", W, "A *-stopped arrives for a session with no earlier event (not checked under --partial).",
    "A session's stop follows its start (L6, L11), but a correct capture can show a stop alone: a client that joins a room after a call began sees the call's *-stopped and nothing before it, and daily-react ignores a stop for a session it never saw (L19). So it is doubtful, not a violation: in a whole capture, the start may have been lost by the recorder. If the capture began mid-call, use --partial. A session whose id an earlier broken line names (not JSON, an unknown action, no action) is not flagged: that line, its start perhaps, has its own finding.",
    "dialin-stopped for session a64d… as the first line of the capture",
    fix="If the capture began mid-call (a client that joined late), check it with --partial; otherwise the recorder lost the session's first events.")
EVENT_AFTER_END = _rule(
    "L303", "event-after-end", E, "An event arrives for a session that already ended with *-stopped or *-error.",
    "*-stopped ends a session and *-error is fatal (L6, L7, L11). Only the other terminal event may still follow, because no source says whether an error is followed by a stop (L13). An ended session is remembered for 50,000 lines, to keep memory bounded; an event after that starts a new session.",
    "dialout-connected after dialout-stopped in the same session",
    fix="A duplicate or late delivery (webhook retries, a handler registered twice) or a session id reused for a new call: check the recorder; if Daily sent it twice, report it to Daily.")
MIXED_DIRECTION = _rule(
    "L304", "mixed-direction", E, "One session id is used by both dial-in and dial-out events.",
    "Dial-in and dial-out sessions are separate sessions, each with its own id (L15, L16).",
    "dialin-connected and dialout-answered with sessionId a64d…",
    fix="The recorder or a forwarder mixed up session ids: record each event's own sessionId, unchanged.")
IDENTITY_CHANGED = _rule(
    "L305", "identity-changed", E, "sipCallId, destination, origin or provider changes within one session.",
    "A SIP dialog keeps one Call-ID, and a call keeps its parties and provider for its whole life (L16, RFC 3261 §8.1.1.4). A value that breaks its schema is its own line's S202 or S203, and is not compared.",
    "dialout-connected destination +12098888888, then dialout-stopped destination +13977888822",
    fix="Two calls share a session id in the recorder, or a forwarder rewrote the field: record each event's fields unchanged; else report it to Daily.")
REPEATED_TRANSITION = _rule(
    "L306", "repeated-transition", E, "A session is connected or answered a second time.",
    "Each of dialin-connected, dialout-connected and dialout-answered marks a one-time step of a call (L5, L9, L10): a second one is a duplicate delivery or a reused session id.",
    "two dialout-connected lines for session 7d20…",
    fix="A duplicate delivery (webhook retries, a handler registered twice) or a session id reused for a new call: check that the recorder registers its handler once.")

del E, W

TABLE_BEGIN = "<!-- rule-table:begin (generated by `telephony-conformance rules --write-readme README.md`) -->"
TABLE_END = "<!-- rule-table:end -->"


def rule_table() -> str:
    """The README's rule table, in Markdown, generated from :data:`RULES`."""
    rows = [
        "| id | name | severity | what it checks | why (sources) | example |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rule in RULES.values():
        cells = [f"`{rule.id}`", rule.name, rule.severity.value, rule.summary, rule.rationale, f"`{rule.example}`"]
        rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(rows)


def replace_table(readme: str) -> str:
    """``readme`` with the text between the table markers replaced by :func:`rule_table`."""
    pattern = re.compile(re.escape(TABLE_BEGIN) + ".*?" + re.escape(TABLE_END), re.S)
    if not pattern.search(readme):
        raise ValueError("README has no rule-table markers")
    return pattern.sub(lambda _: f"{TABLE_BEGIN}\n{rule_table()}\n{TABLE_END}", readme)


def select_rules(select: list[str] | None, ignore: list[str] | None) -> frozenset[str]:
    """The ids enabled by ``--select``/``--ignore``: each entry is an id or a prefix (``L3``).

    Raises ``ValueError`` naming any entry that matches no rule, so a typo is never silent,
    and when no rule is left to check.
    """

    def expand(entries: list[str]) -> set[str]:
        out: set[str] = set()
        for entry in entries:
            hits = {rid for rid in RULES if rid.startswith(entry.strip().upper())} if entry.strip() else set()
            if not hits:
                raise ValueError(f"unknown rule id or prefix {entry!r} (known: {', '.join(RULES)})")
            out |= hits
        return out

    enabled = expand(select) if select else set(RULES)
    if ignore:
        enabled -= expand(ignore)
    if not enabled:  # a check of nothing would pass whatever the capture holds
        raise ValueError("select and ignore leave no rule to check")
    return frozenset(enabled)
