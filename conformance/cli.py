"""The command line: ``telephony-conformance check|schemas|rules``. A thin shell over the core.

Exit codes: 0 no failing finding; 1 failing findings; 2 a path could not be read, the
arguments are wrong, or the check could not finish (out of memory, a bug): one line on
stderr, never a traceback; 141 the output was piped into a program that stopped reading.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, NoReturn

from . import __version__, rules
from .baseline import BaselineError, KnownFindings
from .check import CaptureSummary, CaptureUnreadable, check_file, scan_paths
from .check.gc_tuning import settle
from .config import ConfigError, merged
from .config import load_nearest as load_config
from .escape import display_path, printable
from .findings import Finding
from .openapi import BODIES
from .options import Options, add_check_options, flag_values, options_from, with_defaults
from .report import REPORTER_BY_NAME, Reporter, Totals, needs_columns, needs_coverage
from .report.fanout import ReportUnwritable, open_reporters, parse_report
from .rules import RULES, replace_table, rule_table
from .schemas import schema_dir, schema_version

PROG = "telephony-conformance"
#: The exit code for output piped into a program that stopped reading (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141
#: A capture gets a progress bar once it has been checked for this long (on a terminal);
#: TELEPHONY_CONFORMANCE_PROGRESS_AFTER overrides it (the tests draw it at once).
PROGRESS_AFTER_SECONDS = 1.0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Check captures of Daily telephony events against their contract.",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # --version on one line, however long
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__} (schemas {schema_version()}; {_build()})"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser("check", help="check NDJSON captures (files, folders, or - for stdin)")
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="a capture file, a folder of captures, or -; default: the captures of [tool.telephony-conformance]",
    )
    check.add_argument("--format", choices=tuple(REPORTER_BY_NAME), default="text", help="the report on stdout")
    check.add_argument(
        "--report",
        metavar="FORMAT=PATH",
        action="append",
        default=[],
        help=f"also write a report to a file, from the same run ({', '.join(REPORTER_BY_NAME)}); repeatable",
    )
    add_check_options(check.add_argument, prefix="")
    check.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    check.add_argument(
        "--baseline", metavar="FILE", help="known findings: they do not fail; an entry that matches nothing does"
    )
    check.add_argument(
        "--write-baseline", metavar="FILE", help="write today's findings as the known findings (the run passes)"
    )

    schemas = sub.add_parser("schemas", help="print the folder of the installed schema files")
    schemas.add_argument("--bundle", action="store_true", help="print one self-contained schema instead")
    schemas.add_argument(
        "--check",
        nargs="+",
        metavar="FILE",
        help="check that these files are valid draft 2020-12 JSON Schemas (exit 1 naming each that is not)",
    )

    openapi = sub.add_parser("openapi", help="print an OpenAPI 3.1 document for an HTTP receiver of the events")
    openapi.add_argument("--body", choices=BODIES, default="webhook", help="what the receiver is sent")
    openapi.add_argument("--path", default="/", help="the receiver endpoint's path (default /)")

    rules_ = sub.add_parser("rules", help="list the rules with their ids and severities")
    rules_.add_argument("--markdown", action="store_true", help="print the README's rule table")
    rules_.add_argument("--write-readme", metavar="README", help="regenerate the rule table inside this file")
    return parser


def _build() -> str:
    """Which of this package's loaded modules run compiled (a wheel built where Cython and a C
    compiler could compile its hot loops, hatch_build.py), or "pure Python"."""
    compiled = sorted(
        name.removeprefix(f"{__package__}.")
        for name, module in list(sys.modules.items())
        if name.startswith(f"{__package__}.") and not str(getattr(module, "__file__", None) or ".py").endswith(".py")
    )
    return f"compiled: {', '.join(compiled)}" if compiled else "pure Python"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(parser, args)
    except BrokenPipeError:
        # Output piped into `head` or similar: stop quietly, with the code a shell gives a
        # program that SIGPIPE ended (not 1, which means findings).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        # Ctrl-C: the workers were shut down on the way out (conformance/check/parallel.py).
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"{PROG}: error: out of memory; the check stopped (its output is incomplete)", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one line, never a traceback, never the findings code
        if os.environ.get("TELEPHONY_CONFORMANCE_TRACEBACK"):
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {printable(str(exc))[:300]} (a bug in "
            f"telephony-conformance {__version__}; set TELEPHONY_CONFORMANCE_TRACEBACK=1 for the "
            "traceback to report it with)",
            file=sys.stderr,
        )
        return 2


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "schemas":
        return _check_schemas(args.check) if args.check else _schemas(args.bundle)
    if args.command == "openapi":
        return _openapi(args.body, args.path)
    if args.command == "rules":
        return _rules(args.markdown, args.write_readme)
    try:
        config = load_config()
        settings = merged(flag_values(vars(args).get, ""), config)
        options = options_from(**with_defaults(settings))
        # A report given as a flag replaces the configuration's report of the same format.
        given: dict[str, str] = {}
        for text in args.report:
            name, path = parse_report(text, tuple(REPORTER_BY_NAME))
            if name in given:
                raise ValueError(f"--report {name}=… is given twice ({given[name]} and {path}): one file per format")
            given[name] = path
        configured = {name: path for name, path in (config.get("reports") or {}).items() if name not in given}
        reports = [parse_report(f"{name}={path}", tuple(REPORTER_BY_NAME)) for name, path in configured.items()]
        reports += list(given.items())
        formats = [args.format, *(name for name, _ in reports)]
        options = dataclasses.replace(options, coverage=needs_coverage(formats), columns=needs_columns(formats))
        paths = args.paths or config.get("captures") or []
        if not paths:
            raise ValueError(
                "no capture given: name a PATH (a capture file, a folder of captures, or - for stdin), or list "
                "captures in [tool.telephony-conformance] of pyproject.toml"
            )
    except (ValueError, ConfigError) as exc:
        parser.error(str(exc))
    try:
        known = KnownFindings.open(args.baseline or config.get("baseline"), args.write_baseline)
    except BaselineError as exc:
        parser.error(str(exc))
    options = dataclasses.replace(options, baseline=known.baseline is not None)
    return _check(paths, args.format, options, progress=not args.no_progress, reports=reports, known=known)


def _rules(markdown: bool, readme: str | None) -> int:
    if readme:
        path = Path(readme)
        try:
            path.write_text(replace_table(path.read_text(encoding="utf-8")), encoding="utf-8")
        except (OSError, ValueError) as exc:
            print(f"{PROG}: error: {readme}: {exc}", file=sys.stderr)
            return 2
    elif markdown:
        print(rule_table())
    else:
        for rule in RULES.values():
            print(f"{rule.id}  {rule.severity.value:<7}  {rule.name}: {rule.summary}")
    return 0


def _openapi(body: str, path: str) -> int:
    import json

    from .openapi import build_openapi

    try:
        document = build_openapi(body=body, path=path)  # type: ignore[arg-type]
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(document, indent=2))
    return 0


def _check_schemas(paths: list[str]) -> int:
    from .schema_check import schema_problems

    problems = [problem for path in paths for problem in schema_problems(path)]
    for problem in problems:
        print(f"{PROG}: {problem}")
    return 1 if problems else 0


def _schemas(bundle: bool) -> int:
    if bundle:
        import json

        from .bundle import bundle as make_bundle

        print(json.dumps(make_bundle(), indent=2))
    else:
        print(schema_dir())
    return 0


def _check(
    paths: list[str],
    fmt: str,
    options: Options,
    progress: bool,
    reports: list[tuple[str, str]],
    known: KnownFindings,
) -> int:
    try:
        scan = scan_paths(paths)
    except CaptureUnreadable as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    show_progress = progress and sys.stderr.isatty()
    bar = _Progress(enabled=show_progress)
    out: Any = _ClearingWriter(sys.stdout, bar) if show_progress else sys.stdout
    try:
        reporter = open_reporters(REPORTER_BY_NAME, fmt, out, reports, options)
    except ReportUnwritable as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    settle()  # this process is ours: keep the garbage collector off the long-lived objects
    totals = Totals(skipped_files=scan.skipped)
    unreadable = False
    for path in scan.files:
        summary = CaptureSummary(path)
        reporter.start_capture(path)
        failed = False
        try:
            reason = scan.unreadable.get(path)
            if reason is not None:
                raise CaptureUnreadable(path, f"cannot read: {reason}")
            with bar.capture(path) as update:
                for finding in known.marked(check_file(path, summary, options, progress=update), summary):
                    failed = failed or options.fails(finding)
                    reporter.finding(path, finding)
        except CaptureUnreadable as exc:
            # Said on stderr as grep -r says it, and reported as the capture's finding.
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            reporter.finding(path, _unreadable(summary, exc.reason))
            unreadable = failed = True
        reporter.end_capture(summary)
        totals.add_capture(summary, failed)
    try:
        # A capture not read whole (C110) may hold a known defect: no entry is judged stale.
        stale = known.finish(options, judge=not totals.findings_by_rule.get(rules.UNREADABLE.id))
    except BaselineError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    if stale is not None:
        _report_stale(reporter, totals, options, *stale)
    reporter.close(totals)
    out.flush()
    if unreadable:
        return 2
    return 0 if totals.passed else 1


def _report_stale(
    reporter: Reporter, totals: Totals, options: Options, summary: CaptureSummary, stale: list[Finding]
) -> None:
    """The baseline's stale entries, reported as the findings of the baseline file."""
    reporter.start_capture(summary.path)
    for finding in stale:
        reporter.finding(summary.path, finding)
    reporter.end_capture(summary)
    totals.add(summary)  # not a capture: its findings count, not its lines
    if any(options.fails(finding) for finding in stale):
        totals.failed_captures.append(summary.path)


def _unreadable(summary: CaptureSummary, reason: str) -> Finding:
    finding = rules.UNREADABLE.finding(0, reason)
    summary.count_finding(finding)
    return finding


class _Progress:
    """A rich progress bar on stderr, only on a terminal, and only for a capture that takes
    long enough to need one: it appears once a capture has been checked for
    :data:`PROGRESS_AFTER_SECONDS`, and is cleared before anything is printed."""

    def __init__(self, enabled: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self.clock = clock
        self.after = _seconds(os.environ.get("TELEPHONY_CONFORMANCE_PROGRESS_AFTER"), PROGRESS_AFTER_SECONDS)
        self.bar: Any = None

    @contextlib.contextmanager
    def capture(self, path: str) -> Iterator[Callable[[int], None] | None]:
        if not self.enabled or path == "-":
            yield None
            return
        started = self.clock()
        total = os.path.getsize(path)
        task = None

        def update(position: int) -> None:
            nonlocal task
            if self.bar is None:
                if task is not None or self.clock() - started < self.after:
                    return  # too soon, or cleared for output: not drawn again for this capture
                self.bar = _bar()
                self.bar.start()
                task = self.bar.add_task(os.path.basename(display_path(path)), total=total)
            self.bar.update(task, completed=position, refresh=True)

        try:
            yield update
        finally:
            self.clear()

    def clear(self) -> None:
        """Remove the bar from the terminal (before output, and at a capture's end)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _seconds(text: str | None, default: float) -> float:
    try:
        return float(text) if text else default
    except ValueError:
        return default


class _ClearingWriter:
    """Standard output that clears the progress bar before it writes, so that no output line
    is ever glued to the bar's."""

    def __init__(self, out: IO[str], progress: _Progress) -> None:
        self.out = out
        self.progress = progress

    def write(self, text: str) -> int:
        self.progress.clear()
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def _bar() -> Any:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    # No refresh thread (auto_refresh=False): each update redraws. A process with a second
    # thread could not fork the parallel checker's workers safely.
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
        console=_stderr_console(),
        auto_refresh=False,
    )


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
