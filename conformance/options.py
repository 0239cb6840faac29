"""The options every entry point shares (CLI, pytest plugin, Python API), defined once.

The CLI spells them ``--strict``, the pytest plugin ``--telephony-strict``.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import Any

from . import rules
from .findings import Finding, Severity
from .surfaces import ACTION_OF, ACTION_OF_HANDLER, ACTIONS

#: Longer lines are skipped with ``C107``: a telephony event is well under a kilobyte.
DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024
#: Findings a person is shown per rule; the rest are counted (the machine reports hold all).
DEFAULT_MAX_FINDINGS = 20


@dataclass(frozen=True)
class Options:
    """Options shared by every entry point (CLI, pytest plugin, Python API).

    Arguments:
        strict: warnings fail, and fields a schema does not document become ``S205`` warnings.
        partial: the capture may begin or end in the middle of a call.
        select: rule ids or prefixes to check (default: all).
        ignore: rule ids or prefixes to skip.
        allow_empty: a capture with no telephony event passes.
        max_line_bytes: longer lines are skipped with ``C107``.
        max_findings: findings shown to a person per capture and rule (the text report, the
            plugin's failures); the rest are counted. 0 shows them all.
        jobs: processes for one large capture file: 1 (the default) checks in this
            process, N > 1 uses N workers, 0 one per core for plain files of 16 MiB or
            more (the CLI's and the pytest plugin's default). Not 0 by default here: worker
            processes need the calling script to guard its top level with
            ``if __name__ == "__main__"`` wherever they start by spawning (macOS, Windows).
        severity: per-rule severity overrides, ``(rule id, "error" | "warning" | "off")``;
            ``off`` skips the rule, as ``ignore`` does.
        fail_on: what makes the check fail: ``"error"``, ``"warning"`` or ``"never"`` (report
            only); ``None`` for the default, ``"warning"`` under ``strict``, else ``"error"``.
        require_actions: telephony actions that must appear in each capture, by any surface's
            name for them (``C112`` when one never does).
        columns: find the column of each finding's field on its line (``Finding.span``), for
            the reports that place results in a file (SARIF, GitHub annotations); it costs
            time on each finding.
        baseline: a baseline file is read, so its stale entries are checked (``C113``).
        coverage: count how often each documented field is present, absent and ``null``
            (the JSON report's coverage block); it costs time on every event, so only the
            reports that show it ask for it.
    """

    strict: bool = False
    partial: bool = False
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    allow_empty: bool = False
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    jobs: int = 1
    max_findings: int = DEFAULT_MAX_FINDINGS
    severity: tuple[tuple[str, str], ...] = ()
    fail_on: str | None = None
    require_actions: tuple[str, ...] = ()
    coverage: bool = False
    columns: bool = False
    baseline: bool = False

    def enabled_rules(self) -> frozenset[str]:
        """The enabled rule ids; ``ValueError`` names a ``select``/``ignore`` entry that matches none."""
        off = [rule for rule, level in self.levels().items() if level == "off"]
        return rules.select_rules(list(self.select), [*self.ignore, *off])

    def checked_rules(self) -> frozenset[str]:
        """The enabled rules this run can find anything for, and so may claim to have checked:
        ``S205`` only under ``strict``, ``C112`` only with ``require_actions``, ``C113`` only
        with a ``baseline``, ``L302`` never under ``partial``."""
        idle = {
            rules.UNDOCUMENTED_FIELD.id: not self.strict,
            rules.REQUIRED_ACTION_MISSING.id: not self.require_actions,
            rules.STALE_BASELINE_ENTRY.id: not self.baseline,
            rules.STOPPED_WITHOUT_START.id: self.partial,
        }
        return frozenset(rule for rule in self.enabled_rules() if not idle.get(rule))

    def levels(self) -> dict[str, str]:
        """The level ``severity`` gives each rule it names, the last one given winning."""
        return dict(self.severity)

    def severity_overrides(self) -> dict[str, Severity]:
        """The rules whose findings take another severity than their rule's (``off`` excluded)."""
        return {
            rule: Severity(level)
            for rule, level in self.levels().items()
            if level != "off" and Severity(level) is not rules.RULES[rule].severity
        }

    def severity_of(self, rule: str) -> Severity:
        """The severity this rule's findings get under these options."""
        return self.severity_overrides().get(rule, rules.RULES[rule].severity)

    @property
    def failing_level(self) -> str:
        """What fails the check: ``"error"``, ``"warning"`` or ``"never"``."""
        return self.fail_on or ("warning" if self.strict else "error")

    def failing_severities(self) -> frozenset[Severity]:
        """The severities whose findings fail the check, unless known: :meth:`fails` for a
        reporter that asks it of every finding."""
        level = self.failing_level
        if level == "warning":
            return frozenset((Severity.ERROR, Severity.WARNING))
        return frozenset((Severity.ERROR,)) if level == "error" else frozenset()

    def fails(self, finding: Finding) -> bool:
        """Whether a finding makes the check fail under these options (a known one, which a
        baseline lists, never does)."""
        if finding.known is not None:
            return False
        level = self.failing_level
        return level == "warning" or (level == "error" and finding.severity is Severity.ERROR)


#: (name, help) of each shared flag; all are booleans but select/ignore.
_FLAGS = (
    ("strict", "warnings fail, and fields a schema does not document become warnings"),
    ("partial", "the capture may begin or end in the middle of a call"),
    ("allow-empty", "a capture with no telephony event passes"),
)


#: The values of ``--fail-on``.
FAIL_ON = ("error", "warning", "never")
#: The values a severity override takes.
LEVELS = ("error", "warning", "off")


#: The shared flags' values when neither a flag nor the configuration gives one, by the
#: name :func:`options_from` takes (the flags themselves default to ``None``: not given, so
#: that a configuration file's value can stand, see :mod:`conformance.config`).
FLAG_DEFAULTS: dict[str, Any] = {
    "strict": False,
    "partial": False,
    "allow_empty": False,
    "select": "",
    "ignore": "",
    "jobs": 0,
    "max_findings": DEFAULT_MAX_FINDINGS,
    "severity": [],
    "fail_on": None,
    "require_actions": "",
}


def add_check_options(add: Any, prefix: str) -> None:
    """Declare the shared options with ``add`` (argparse's add_argument or pytest's addoption).

    Each defaults to ``None``, "not given": :func:`flag_values` reads them back, and the
    defaults apply only where the configuration says nothing either (:data:`FLAG_DEFAULTS`)."""
    for name, help_ in _FLAGS:
        add(f"--{prefix}{name}", action="store_true", default=None, help=help_)
    add(f"--{prefix}select", metavar="IDS", default=None, help="only these rules: comma-separated ids or prefixes")
    add(f"--{prefix}ignore", metavar="IDS", default=None, help="skip these rules: comma-separated ids or prefixes")
    add(
        f"--{prefix}jobs",
        metavar="N",
        type=int,
        default=None,
        help="processes per large capture file: 1 = one process; default 0 = one per core, for files of 16 MiB or more",
    )
    add(
        f"--{prefix}max-findings",
        metavar="N",
        type=int,
        default=None,
        help=f"findings shown per capture and rule (default {DEFAULT_MAX_FINDINGS}; 0 = all); the rest are counted",
    )
    add(
        f"--{prefix}severity",
        metavar="RULE=LEVEL",
        action="append",
        default=None,
        help="give a rule (id or name) another severity: error, warning or off; repeatable",
    )
    add(
        f"--{prefix}fail-on",
        choices=FAIL_ON,
        default=None,
        help="what fails the check: error (the default), warning (the default under strict) or never (report only)",
    )
    add(
        f"--{prefix}require-actions",
        metavar="LIST",
        default=None,
        help="actions that must appear in each capture, comma-separated (dialout-answered,dialin-error)",
    )


def flag_values(get: Any, prefix: str) -> dict[str, Any]:
    """The shared flags as given (``None`` where not), by :func:`options_from`'s names; ``get``
    reads one by its destination (``args.__dict__.get``, or pytest's ``config.getoption``)."""
    dest = prefix.replace("-", "_")
    return {name: get(dest + name) for name in FLAG_DEFAULTS}


def with_defaults(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with :data:`FLAG_DEFAULTS` where a value is ``None`` (``fail_on`` stays ``None``)."""
    return {name: default if values.get(name) is None else values[name] for name, default in FLAG_DEFAULTS.items()}


def max_jobs() -> int:
    """The most worker processes ``--jobs`` may ask for: four per available core, and at least 8.
    More only crowd the machine (each worker holds its own compiled schemas)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        cores = os.cpu_count() or 1
    return max(8, 4 * cores)


def options_from(
    strict: bool,
    partial: bool,
    select: str,
    ignore: str,
    allow_empty: bool,
    jobs: int = 1,
    max_findings: int = DEFAULT_MAX_FINDINGS,
    severity: list[str] | tuple[str, ...] = (),
    fail_on: str | None = None,
    require_actions: str = "",
) -> Options:
    """Build and validate :class:`Options` from the flags' texts; ``ValueError`` names a rule id
    that matches nothing, a job count that is negative or above :func:`max_jobs`, a negative
    finding count, a malformed ``--severity`` or an unknown action."""
    if jobs < 0:
        raise ValueError(f"jobs must be 0 (one per core) or a positive number, not {jobs}")
    if jobs > max_jobs():
        raise ValueError(
            f"jobs {jobs} is more than this machine can use: at most {max_jobs()} "
            "(four per core), or 0 for one per core"
        )
    if max_findings < 0:
        raise ValueError(f"max-findings must be 0 (show all) or a positive number, not {max_findings}")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise ValueError(f"fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    options = Options(
        strict=strict,
        partial=partial,
        select=_listed(select),
        ignore=_listed(ignore),
        allow_empty=allow_empty,
        jobs=jobs,
        max_findings=max_findings,
        severity=tuple(parse_severity(text) for text in severity),
        fail_on=fail_on,
        require_actions=tuple(dict.fromkeys(required_action(name) for name in _listed(require_actions))),
    )
    options.enabled_rules()
    return options


def _listed(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def parse_severity(text: str) -> tuple[str, str]:
    """``RULE=LEVEL`` (a rule id or name, and error, warning or off) as ``(rule id, level)``."""
    rule, sep, level = text.partition("=")
    if not sep:
        raise ValueError(f"severity {text!r} is not RULE=LEVEL (S205=error, L301=off)")
    return rule_id(rule), severity_level(level, rule)


def severity_level(level: str, rule: str) -> str:
    """A severity override's level, checked: error, warning or off."""
    level = level.strip().lower()
    if level not in LEVELS:
        raise ValueError(f"severity of {rule.strip()}: {level!r} is not one of {', '.join(LEVELS)}")
    return level


def rule_id(name: str) -> str:
    """The id of a rule named by its id (any case) or its name; ``ValueError`` otherwise."""
    name = name.strip()
    if name.upper() in rules.RULES:
        return name.upper()
    for rule in rules.RULES.values():
        if rule.name == name.lower():
            return rule.id
    known = ", ".join(rules.RULES)
    raise ValueError(f"unknown rule {name!r} (known: {known}; `telephony-conformance rules` explains them)")


def required_action(name: str) -> str:
    """The action a ``--require-actions`` entry names: an action (``dialout-answered``), its
    webhook type (``dialout.answered``) or its daily-python handler (``on_dialout_answered``)."""
    action = ACTION_OF.get(name) or ACTION_OF_HANDLER.get(name) or (name if name in ACTIONS else None)
    if action is None:
        guess = difflib.get_close_matches(name, ACTIONS, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"the ten are {', '.join(ACTIONS)}"
        raise ValueError(f"require-actions: {name!r} is not a telephony action; {hint}")
    return action
