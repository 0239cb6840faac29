"""What a fuzzing failure says, and the file that replays it.

A failure is the shrunk (minimal) stream of one strategy family that the consumer failed on,
with the exception and the consumer's own traceback frames, or a program's exit and stderr.
The stream is written as NDJSON, with a one-line command that feeds it to the consumer again
(``python -m conformance.consumers MODULE:OBJECT FILE``) and one that checks it.

The file is written safely (:func:`write_failure`), since fuzzing may run as root in a folder
other users can write to: in a folder that is this user's own and no symbolic link, under a
fresh name that cannot already exist (so never through a link planted at a name it could
guess). When it cannot be written, the failure is shown all the same and says why.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .consumers import Outcome, ndjson

Event = dict[str, Any]


@dataclass
class ConsumerFailure:
    """A consumer failing on the shrunk (minimal) stream of one family.

    Arguments:
        consumer: the consumer's name (``module:object`` or the command line).
        family: ``events``, ``streams``, ``broken-events`` or ``broken-streams``.
        events: the minimal failing stream (a single event for the ``events`` families).
        outcome: what happened (the exception and its traceback, or the exit and stderr).
        rule: for broken input, the rule the stream breaks.
        description: for broken input, what was broken.
        path: the NDJSON file holding ``events``.
        replay: the one-line command that feeds that file to the consumer again.
        check: the command that checks that file against the schemas and lifecycle rules.
        flaky: the consumer did not fail when the minimal stream was delivered again.
        surface: the shape the consumer got the events in; a ``daily-python`` consumer's
            stream is shown and written as the lines a recorder writes
            (``{"handler", "client", "data"}``), so that the check command reads it as what
            that consumer received.
    """

    consumer: str
    family: str
    events: list[Event]
    outcome: Outcome
    rule: str | None = None
    description: str = ""
    path: Path | None = None
    replay: str = ""
    check: str = ""
    flaky: bool = False
    examples: int = 0
    seed: int | None = None
    unwritten: str = ""  # why the stream could not be written to a file, if it could not
    surface: str = "daily-js"

    def lines(self) -> list[dict[str, Any]]:
        """The stream as it is shown and written: in the shape its consumer received."""
        if self.surface == "daily-python":
            from .strategies import as_daily_python_record

            return [as_daily_python_record(event) for event in self.events]
        return self.events

    def render(self) -> str:
        """The failure as text: what failed and why, the minimal stream, where it was written."""
        d = self.outcome
        what = "valid" if self.rule is None else f"broken ({self.rule}: {self.description})"
        kind = "event" if self.family.endswith("events") else "stream"
        lines = [f"{self.consumer} failed on a {what} {kind} ({self.family}): {d.reason}"]
        if self.rule is not None:
            lines.append(
                "Broken input may be ignored or rejected cleanly (--telephony-reject, --telephony-reject-exit); "
                "this was neither."
            )
        if d.consumer_traceback:
            lines += ["", d.consumer_traceback.rstrip()]
        if d.exit_code is not None or d.stderr:
            lines += ["", "stderr:" if d.stderr else "stderr: (empty)"]
            lines += ["  " + s for s in d.stderr.rstrip().splitlines()]
        n = len(self.events)
        lines += ["", f"Minimal failing {kind} ({n} event{'s' if n != 1 else ''}):"]
        for i, event in enumerate(self.lines()):
            marker = ">" if d.index == i and n > 1 else " "
            lines.append(f" {marker}{json.dumps(event, ensure_ascii=False)}")
        if self.flaky:
            lines += ["", "(flaky: it did not fail again when replayed; does the consumer keep state between streams?)"]
        if self.path is not None:
            lines += ["", f"Written to {self.path}", f"Replay:    {self.replay}", f"Check it:  {self.check}"]
        elif self.unwritten:
            lines += ["", f"Not written to a file: {self.unwritten}. The events above are the whole stream."]
        if self.seed is not None:
            lines.append(
                f"Seed:      {self.seed} (--telephony-seed {self.seed}, or seed={self.seed}, fuzzes the same examples)"
            )
        return "\n".join(lines)


class ConsumerFailed(AssertionError):
    """Raised by :func:`fuzz_consumer` (``raise_on_failure=True``); ``str()`` is the report."""

    def __init__(self, failures: list[ConsumerFailure]) -> None:
        self.failures = failures
        super().__init__("\n\n".join(f.render() for f in failures))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80] or "consumer"


def write_failure(
    failure: ConsumerFailure, directory: Path | Callable[[], Path], replay: Callable[[str], str]
) -> None:
    """Write the failing stream as NDJSON to a new file in ``directory`` (or the folder it
    gives, called now) and fill in the replay and check commands; ``replay`` gives the
    consumer's replay command for a (shell-quoted) file. When the file cannot be written
    safely, :attr:`ConsumerFailure.unwritten` says why, and the failure is complete without it."""
    folder: Path | None = None
    try:
        folder = directory() if callable(directory) else directory
        own_folder(folder)
        prefix = f"{_slug(failure.consumer)}--{failure.family}-"
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".ndjson", dir=folder)  # O_EXCL: never a planted link
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(ndjson(failure.lines()))
    except (OSError, UnsafeFolder) as exc:
        failure.unwritten = _why(exc, folder)
        return
    path = Path(name)
    failure.path = path
    shown = shlex.quote(str(path))
    failure.replay = replay(shown)
    # Lone events, and a stream shortened to its failing events, begin mid-call.
    flags = " --telephony-partial --telephony-allow-empty" if failure.family != "broken-streams" else ""
    failure.check = f"pytest --telephony-conformance {shown}{flags}"


def _why(exc: OSError | UnsafeFolder, folder: Path | None) -> str:
    """Why a failing stream could not be written, naming where."""
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else folder
        return f"{where}: {exc.strerror}" if where is not None else exc.strerror
    return f"{folder}: {exc}" if folder is not None else str(exc)


class UnsafeFolder(Exception):
    """The folder for failing streams is not this user's own: writing there could be redirected."""


def own_folder(folder: Path) -> None:
    """Make ``folder`` (and its parents), private to this user, if it does not exist; raise
    :class:`UnsafeFolder` if it is a symbolic link, not a folder, or another user's."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFolder("it is a symbolic link, not a folder of this user's own")
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFolder("it is not a folder")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise UnsafeFolder(f"it belongs to another user (uid {info.st_uid})")
