"""A program consumer kept running across streams (``--telephony-consumer-loop``).

Starting a program per stream costs its start-up every time: a trivial Node.js consumer took
66 s for the four families. A program that can handle streams one after another is started
once, and restarted only after it fails. The protocol, on its standard streams:

* **in**: each stream as NDJSON, one event per line, ended by an empty line (or by the end of
  input, so that ``node app.js < FILE`` replays a written stream);
* **out**: when it has handled a stream, one line ``handled``; to reject broken input
  cleanly, one line ``rejected`` (the ``--telephony-reject-exit`` of a looping program). Other
  lines on stdout are kept and shown with a failure; log to stderr;
* a crash (any exit) or no answer within the timeout fails the stream, with the program's
  stderr since the stream began; the next stream starts the program afresh.

Each stream must be handled as if it were the first: state kept from one stream to the next
makes failures depend on what came before (the report then says "flaky").
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
from collections.abc import Sequence
from typing import IO, Any

from .consumers import _MAX_STDERR, Event, Outcome, ProgramConsumer, Rejection, _text, exit_reason, ndjson

HANDLED = "handled"
REJECTED = "rejected"
#: How many lines of a program's other output a failure shows.
_OTHER_LINES = 20


class LoopingProgramConsumer(ProgramConsumer):
    """A program started once and fed stream after stream (see the module docstring)."""

    def __init__(self, target: Any, name: str) -> None:
        super().__init__(target, name)
        self._process: subprocess.Popen[bytes] | None = None
        self._readers: list[threading.Thread] = []
        self._answers: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._stderr_lock = threading.Lock()
        self.starts = 0  # how many times the program was started

    def deliver(self, stream: Sequence[Event], broken: Rejection | None = None) -> Outcome:
        process = self._running()
        with self._stderr_lock:
            self._stderr.clear()
        data = ndjson(stream) + "\n"
        try:
            assert process.stdin is not None
            process.stdin.write(data.encode("utf-8"))
            process.stdin.flush()
        except OSError:  # it died before reading the stream (BrokenPipeError)
            return self._ended(process, [])
        other: list[str] = []
        while True:
            try:
                answer = self._answers.get(timeout=self.target.timeout)
            except queue.Empty:
                self._stop(kill=True)
                return Outcome("failed", stderr=self._said(), reason=f"timed out after {self.target.timeout:g}s")
            if answer is None:  # stdout closed: the program ended
                return self._ended(process, other)
            if answer == HANDLED:
                return Outcome("handled", exit_code=0)
            if answer == REJECTED:
                if broken is not None:
                    return Outcome("rejected", stderr=self._said())
                return Outcome("failed", stderr=self._said(other), reason="answered 'rejected' to a valid stream")
            other = [*other, answer][-_OTHER_LINES:]

    def close(self) -> None:
        """Stop the program, if it runs: the end of its input, then a kill if it lingers."""
        self._stop(kill=False)

    def _stop(self, kill: bool) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        if kill:
            process.kill()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._reap(process)

    def _reap(self, process: subprocess.Popen[bytes]) -> None:
        """Close an ended program's pipes, once its readers have taken what it wrote."""
        for reader in self._readers:
            reader.join(timeout=1)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self.close()
        program = self.target
        try:
            process = subprocess.Popen(
                program.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=program.cwd,
            )
        except OSError as exc:
            raise self.cannot_run(exc) from None
        self.starts += 1
        self._answers = queue.Queue()
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            threading.Thread(target=_lines, args=(process.stdout, self._answers), daemon=True),
            threading.Thread(target=self._collect, args=(process.stderr,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self._process = process
        return process

    def _collect(self, stderr: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):  # closed under it: a program that would not end
            for raw in stderr:
                with self._stderr_lock:
                    self._stderr.append(raw.decode("utf-8", "replace"))
                    while len(self._stderr) > 1 and sum(map(len, self._stderr)) > _MAX_STDERR:
                        del self._stderr[0]

    def _said(self, other: list[str] | None = None) -> str:
        with self._stderr_lock:
            text = "".join(self._stderr)
        if other:
            text += "".join(f"(stdout) {line}\n" for line in other)
        return _text(text)

    def _ended(self, process: subprocess.Popen[bytes], other: list[str]) -> Outcome:
        """The outcome of a program that ended before answering; the next stream restarts it."""
        try:
            code = process.wait(timeout=self.target.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        self._process = None
        self._reap(process)  # and the last of its stderr read
        reason = exit_reason(code, after=" before answering")
        return Outcome("failed", exit_code=code, stderr=self._said(other), reason=reason)


def _lines(stdout: IO[bytes], answers: queue.Queue[str | None]) -> None:
    """Each line the program writes to stdout, stripped, then ``None`` when it closes it."""
    with contextlib.suppress(OSError, ValueError):  # closed under it: a program that would not end
        for raw in stdout:
            answers.put(raw.decode("utf-8", "replace").strip())
    answers.put(None)
