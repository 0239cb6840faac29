"""The command line: ``telephony-conformance check|schemas|rules``. A thin shell over the core.

Exit codes: 0 no failing finding; 1 failing findings; 2 the input could not be read at
all or the arguments are wrong (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .check import CaptureSummary, CaptureUnreadable, capture_files, check_file
from .check.gc_tuning import settle
from .openapi import BODIES
from .options import Options, add_check_options, options_from
from .report import REPORTER_BY_NAME, Totals
from .rules import RULES, replace_table, rule_table
from .schemas import schema_dir, schema_version

PROG = "telephony-conformance"


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
    check.add_argument("paths", nargs="+", metavar="PATH", help="a capture file, a folder of captures, or -")
    check.add_argument("--format", choices=tuple(REPORTER_BY_NAME), default="text")
    add_check_options(check.add_argument, prefix="")
    check.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    schemas = sub.add_parser("schemas", help="print the folder of the installed schema files")
    schemas.add_argument("--bundle", action="store_true", help="print one self-contained schema instead")

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
        if args.command == "schemas":
            return _schemas(args.bundle)
        if args.command == "openapi":
            return _openapi(args.body, args.path)
        if args.command == "rules":
            return _rules(args.markdown, args.write_readme)
        try:
            options = options_from(args.strict, args.partial, args.select, args.ignore, args.allow_empty, args.jobs)
        except ValueError as exc:
            parser.error(str(exc))
        return _check(args.paths, args.format, options, progress=not args.no_progress)
    except BrokenPipeError:
        # Output piped into `head` or similar: stop quietly, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        # Ctrl-C: the workers were shut down on the way out (conformance/check/parallel.py).
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


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


def _schemas(bundle: bool) -> int:
    if bundle:
        import json

        from .bundle import bundle as make_bundle

        print(json.dumps(make_bundle(), indent=2))
    else:
        print(schema_dir())
    return 0


def _check(paths: list[str], fmt: str, options: Options, progress: bool) -> int:
    try:
        files = [f for p in paths for f in capture_files(p)]
    except CaptureUnreadable as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout
    reporter = REPORTER_BY_NAME[fmt](out, options)
    settle()  # this process is ours: keep the garbage collector off the long-lived objects
    totals = Totals()
    unreadable = False
    show_progress = progress and sys.stderr.isatty()
    for path in files:
        summary = CaptureSummary(path)
        reporter.start_capture(path)
        failed = False
        try:
            with _progress(path, show_progress) as update:
                for finding in check_file(path, summary, options, progress=update):
                    failed = failed or options.fails(finding)
                    reporter.finding(path, finding)
        except CaptureUnreadable as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            unreadable = failed = True
        reporter.end_capture(summary)
        totals.add_capture(summary, failed)
    reporter.close(totals)
    out.flush()
    if unreadable:
        return 2
    return 0 if totals.passed else 1


class _progress:
    """A rich progress bar on stderr for one capture, only on a terminal; else a no-op."""

    def __init__(self, path: str, enabled: bool) -> None:
        self.path = path
        self.enabled = enabled and path != "-"
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        # No refresh thread (auto_refresh=False): each update redraws. A process with a
        # second thread could not fork the parallel checker's workers safely.
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            transient=True,
            console=_stderr_console(),
            auto_refresh=False,
        )
        self.bar.start()
        task = self.bar.add_task(os.path.basename(self.path), total=os.path.getsize(self.path))
        bar = self.bar

        def update(position: int) -> None:
            bar.update(task, completed=position, refresh=True)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
