"""The options every entry point shares (CLI, pytest plugin, Python API), defined once.

The CLI spells them ``--strict``, the pytest plugin ``--telephony-strict``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from . import rules
from .findings import Finding, Severity

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
    """

    strict: bool = False
    partial: bool = False
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    allow_empty: bool = False
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    jobs: int = 1
    max_findings: int = DEFAULT_MAX_FINDINGS

    def enabled_rules(self) -> frozenset[str]:
        """The enabled rule ids; ``ValueError`` names a ``select``/``ignore`` entry that matches none."""
        return rules.select_rules(list(self.select), list(self.ignore))

    def fails(self, finding: Finding) -> bool:
        """Whether a finding makes the check fail under these options."""
        return finding.severity is Severity.ERROR or self.strict


#: (name, help) of each shared flag; all are booleans but select/ignore.
_FLAGS = (
    ("strict", "warnings fail, and fields a schema does not document become warnings"),
    ("partial", "the capture may begin or end in the middle of a call"),
    ("allow-empty", "a capture with no telephony event passes"),
)


def add_check_options(add: Any, prefix: str) -> None:
    """Declare the shared options with ``add`` (argparse's add_argument or pytest's addoption)."""
    for name, help_ in _FLAGS:
        add(f"--{prefix}{name}", action="store_true", default=False, help=help_)
    add(f"--{prefix}select", metavar="IDS", default="", help="only these rules: comma-separated ids/prefixes (S2,L301)")
    add(f"--{prefix}ignore", metavar="IDS", default="", help="skip these rules: comma-separated ids or prefixes")
    add(
        f"--{prefix}jobs",
        metavar="N",
        type=int,
        default=0,
        help="processes per large capture file: 1 = one process; default 0 = one per core, for files of 16 MiB or more",
    )
    add(
        f"--{prefix}max-findings",
        metavar="N",
        type=int,
        default=DEFAULT_MAX_FINDINGS,
        help=f"findings shown per capture and rule (default {DEFAULT_MAX_FINDINGS}; 0 = all); the rest are counted",
    )


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
) -> Options:
    """Build and validate :class:`Options`; ``ValueError`` names a rule id that matches nothing,
    a job count that is negative or above :func:`max_jobs`, or a negative finding count."""
    if jobs < 0:
        raise ValueError(f"jobs must be 0 (one per core) or a positive number, not {jobs}")
    if jobs > max_jobs():
        raise ValueError(
            f"jobs {jobs} is more than this machine can use: at most {max_jobs()} "
            "(four per core), or 0 for one per core"
        )
    if max_findings < 0:
        raise ValueError(f"max-findings must be 0 (show all) or a positive number, not {max_findings}")
    options = Options(
        strict=strict,
        partial=partial,
        select=tuple(s.strip() for s in select.split(",") if s.strip()),
        ignore=tuple(s.strip() for s in ignore.split(",") if s.strip()),
        allow_empty=allow_empty,
        jobs=jobs,
        max_findings=max_findings,
    )
    options.enabled_rules()
    return options
