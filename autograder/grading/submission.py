"""One student's submission as the hidden tests see it: `submission.call("f", ...)` returns plain data.

The notebook's code cells run in a fresh sandboxed process on first use; each graded function's tests then
call into a fork of that process of their own (`grading(function)` says which function the next calls are
for), which receives the helpers without that function's answers (autograder/sandbox/answers.py). A fork
that dies or hangs (os._exit, a limit, an infinite loop that ignores the alarm) costs the call at fault,
and the function's next call gets a fresh fork. If the notebook's own process dies while its cells run,
the next call gets a fresh process in which the cell at fault is skipped, up to `Limits.restarts` times
and within the submission's wall-clock budget. Every failure is a failed call with a reason, never a pass.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import time

from autograder.course.limits import Limits
from autograder.sandbox.answers import Helpers
from autograder.sandbox.inside import protocol
from autograder.sandbox.inside.protocol import ErrorKind
from autograder.sandbox.launcher import Sandbox, SandboxError
from autograder.testkit.calls import CallError, CallResult
from autograder.testkit.values import Budget, Handle, TooLarge, decode, to_spec

TIMEOUTS_BEFORE_GIVING_UP = 2  # a function that never returned but ran past the call limit this often
GRACE_SECONDS = 3.0  # beyond the in-sandbox alarm, before the grader kills a process that ignores it
FORK_SECONDS = 20.0  # for the notebook's process to fork, or to end a fork
MESSAGE_CHARS = 2_000  # of an error message from the sandbox; the student's code can forge these
CELL_STATUSES = frozenset({"ok", "error", "timeout", "skipped"})
EXIT_REASONS = {
    "SIGXCPU": "it used up its CPU time limit",
    "SIGKILL": "it was killed (out of memory, or by the grader)",
    "SIGSEGV": "it crashed (segmentation fault)",
    "SIGABRT": "it aborted",
}


def clip(text, limit: int) -> str:
    """Text from the sandbox, cut to `limit` characters: student code can write to its own end of the
    connection, so no string it sends may grow results.json without bound."""
    text = text if isinstance(text, str) else str(text)
    if len(text) <= limit:
        return text
    return text[:limit] + f" [... {len(text) - limit} more characters dropped]"


def student_where(where: str, cells: list[str]) -> str:
    """The sandbox's "cell 44, line 6" (code cells counted from 0) in words a student can find in the
    notebook: "line 6 of the cell that defines f", else "line 3 of code cell 8" (from 1)."""
    match = re.fullmatch(r"cell (\d+), line (\d+)", where)
    if not match or not 0 <= int(match[1]) < len(cells):
        return where
    index, line = int(match[1]), match[2]
    defined = re.search(r"^def (\w+)\(", cells[index], re.MULTILINE)
    cell = f"the cell that defines {defined[1]}" if defined else f"code cell {index + 1}"
    return f"line {line} of {cell}"


def call_error(error, cells: list[str]) -> CallError:
    """A CallError from the sandbox's description of one, every field checked and clipped."""
    if not isinstance(error, dict):
        error = {}
    where = error.get("where")
    return CallError(
        clip(error.get("type", "Error"), 100), clip(error.get("message", ""), MESSAGE_CHARS),
        None if where is None else student_where(clip(where, 100), cells),
    )  # fmt: skip


@dataclasses.dataclass
class CellReport:
    index: int
    status: str  # ok, error, timeout, skipped, killed
    error: str | None = None


class Submission:
    """The sandboxed notebook of one student, driven by plain-data requests."""

    def __init__(
        self,
        cells: list[str],
        sandbox: Sandbox | None,
        limits: Limits,
        load_error: str | None = None,
        helpers: Helpers | None = None,
    ):
        """`helpers`: the assignment's helpers, cut for each function's fork (None: forks get none)."""
        self.cells = cells
        self.sandbox = sandbox
        self.limits = limits
        self.helpers = helpers
        self.load_error = load_error  # the notebook could not be read: every call fails with this
        self.cell_reports: dict[int, CellReport] = {}
        self.events: list[str] = []  # limits hit, restarts: shown to the TA and the student
        self._fatal_cells: set[int] = set()
        self._given_up: dict[str, str] = {}  # function -> why it is not called again
        self._timeouts: dict[str, int] = {}
        self._returned: set[str] = set()  # functions that returned at least once
        self._sock: socket.socket | None = None  # the notebook's process
        self._function: str | None = None  # whose tests call now (see grading)
        self._fork: socket.socket | None = None  # the process grading _fork_of
        self._fork_of: str | None = None
        self._starts = 0
        self._deadline = time.monotonic() + limits.submission_seconds
        self.hit_limit = False

    # -- process lifecycle ------------------------------------------------------------------------------

    def _unavailable(self) -> str | None:
        if self.load_error:
            return self.load_error
        if self.sandbox is None:
            return "no sandbox"
        if time.monotonic() > self._deadline:
            self.hit_limit = True
            return f"the submission used up its {self.limits.submission_seconds:.0f} s time budget"
        if self._starts > self.limits.restarts:
            return f"the notebook's process died {self._starts} times; no more restarts"
        return None

    def _process_ended(self, during: str) -> str:
        """Kill what is left of the student's process (and its fork); explain how it ended."""
        return self._ended(self._drop_process(), during)

    def _drop_process(self) -> str | None:
        """Kill the student's process and everything it started; how it ended if on its own."""
        self._close_fork()
        self._sock.close()
        self._sock = None
        self.sandbox.reset()
        return self.sandbox.last_exit

    def _ended(self, ended: str | None, during: str) -> str:
        """The event that says how a process ended (`ended`: e.g. "SIGXCPU", "exit 3"; None: it hung)."""
        if ended is None:
            reason = "it stopped responding and was stopped by the grader"
            self.hit_limit = True
        elif ended in EXIT_REASONS:
            reason = EXIT_REASONS[ended]
            self.hit_limit = ended != "SIGSEGV"
        else:
            reason = f"it ended the process itself ({ended}, e.g. sys.exit or os._exit)"
        event = f"the notebook's process ended during {during}: {reason}"
        self.events.append(event)
        return event

    def _receive(self, sock: socket.socket, seconds: float) -> dict:
        sock.settimeout(max(0.1, min(seconds, self._deadline - time.monotonic() + GRACE_SECONDS)))
        return protocol.receive(sock)

    def _ensure_started(self) -> str | None:
        """Start the student's process and run the cells; None when ready, else why not."""
        while self._sock is None:
            reason = self._unavailable()
            if reason:
                return reason
            self._starts += 1
            try:
                self._sock = self.sandbox.open_session()
            except SandboxError as exc:
                return str(exc)
            protocol.send(
                self._sock,
                {
                    "op": "load",
                    "cells": self.cells,
                    "skip": sorted(self._fatal_cells),
                    "limits": self.limits.for_worker(),
                },
            )
            index = 0
            try:
                while True:
                    message = self._receive(self._sock, self.limits.cell_seconds + GRACE_SECONDS)
                    if message.get("op") == "loaded":
                        return None
                    reported, status = message["index"], message["status"]
                    if reported != index or status not in CELL_STATUSES:
                        got = f"{clip(reported, 20)}, {clip(status, 20)}"
                        raise protocol.ProtocolError(f"unexpected cell report ({got})")
                    if index in self._fatal_cells:  # keep the report of how it killed the process
                        index += 1
                        continue
                    error = message.get("error")
                    text = str(call_error(error, self.cells)) if error else None
                    self.cell_reports[index] = CellReport(index, status, text)
                    index += 1
            except (OSError, protocol.ProtocolError, KeyError, TypeError, ValueError):
                event = self._process_ended(f"code cell {index + 1}")
                self.cell_reports[index] = CellReport(index, "killed", event)
                self._fatal_cells.add(index)
        return None

    def grading(self, function: str | None) -> None:
        """The calls that follow are the tests of `function`: they run in its own fork."""
        self._function = function

    def _ensure_fork(self) -> str | None:
        """A fork of the notebook's process for the function under test; None when ready, else why not."""
        while self._fork is None or self._fork_of != self._function:
            reason = self._ensure_started()
            if reason:
                return reason
            previous = self._fork_of or "the notebook"
            self._close_fork()  # the notebook's process stops it as it forks the next: no round trip of its own
            if self._sock is None:  # the notebook's process died meanwhile
                self._ended(self.sandbox.last_exit, f"the tests of {previous}")
                continue
            ours, theirs = socket.socketpair()
            try:
                protocol.send(self._sock, {"op": "fork"})
                socket.send_fds(self._sock, [b"F"], [theirs.fileno()])
                forked = self._receive(self._sock, FORK_SECONDS)
                if forked.get("op") != "forked":
                    raise protocol.ProtocolError("the notebook's process did not fork")
                if forked.get("made_room") is True:
                    self.hit_limit = True
                    self.events.append(
                        "the processes the notebook started used up the process limit; they were stopped so that "
                        f"the tests of {self._function or 'the notebook'} could run"
                    )
                source = self.helpers.source_for(self._function) if self.helpers is not None else None
                protocol.send(ours, {"op": "helpers", "source": source})
            except (OSError, protocol.ProtocolError):
                ours.close()
                self._process_ended(f"the start of the tests of {self._function or 'the notebook'}")
                continue
            finally:
                theirs.close()
            self._fork, self._fork_of = ours, self._function
        return None

    def _close_fork(self) -> None:
        if self._fork is not None:
            self._fork.close()
            self._fork = None

    def _end_fork(self, wait: bool = False) -> str | None:
        """Stop the current fork, if any; how it ended if it ended on its own (see _ended)."""
        if self._fork is None:
            return None
        self._close_fork()
        try:
            protocol.send(self._sock, {"op": "end", "wait": wait})
            ended = self._receive(self._sock, FORK_SECONDS).get("exit")
        except (OSError, protocol.ProtocolError):  # the notebook's process is gone too: how it ended
            return self._drop_process()
        return ended if isinstance(ended, str) else None

    def close(self) -> None:
        if self._sock is not None:
            self._end_fork()
        if self._sock is not None:
            try:
                protocol.send(self._sock, {"op": "bye"})
            except OSError:
                pass
            self._sock.close()
            self._sock = None
            self.sandbox.reset()

    # -- calls ------------------------------------------------------------------------------------------

    def call(
        self, fn: str, *args, backward: bool = False, stand_ins: tuple[str, ...] = (), keep: bool = False
    ) -> CallResult:
        """Call the student's `fn` in the sandbox with these arguments (NumPy arrays become tensors of
        their dtype; `helper(...)` specs and Handles build other objects, see autograder.testkit.values).
        With backward=True, backward() runs through the result (summed if not a scalar). `stand_ins`
        replaces those names in the student's namespace by the helpers' known-good versions during the
        call. With keep=True the result stays in the sandbox as `CallResult.handle`."""
        callee = {"kind": "student", "name": fn}
        return self._call(fn, callee, args, backward=backward, stand_ins=stand_ins, keep=keep)

    def call_helper(self, name: str, *args, keep: bool = False) -> CallResult:
        """Call `helpers.<name>(*args)` in the sandbox, e.g. to copy reference weights into a model the student
        returned (pass its Handle). It runs on the student's objects, so its failure is the student's."""
        return self._call(name, {"kind": "helper", "name": name}, args, keep=keep)

    def call_handle(self, handle: Handle, *args, label: str, backward: bool = False, keep: bool = False) -> CallResult:
        """Call an object the student returned (kept with keep=True), e.g. a model on the test's inputs.
        `label` names it in messages and in the bookkeeping of calls that crash."""
        return self._call(label, {"kind": "handle", "id": handle.id}, args, backward=backward, keep=keep)

    def _call(self, fn: str, callee: dict, args, backward=False, stand_ins=(), keep=False) -> CallResult:
        if fn in self._given_up:
            return CallResult(ok=False, error=CallError(ErrorKind.NOT_CALLED_AGAIN, self._given_up[fn]))
        reason = self._ensure_fork()
        if reason:
            return CallResult(ok=False, error=CallError(ErrorKind.UNAVAILABLE, reason))
        request = {"op": "call", "callee": callee, "args": [to_spec(a) for a in args], "backward": backward,
                   "stand_ins": list(stand_ins), "keep": keep}  # fmt: skip
        try:
            protocol.send(self._fork, request)
            reply = self._receive(self._fork, self.limits.call_seconds * (2 if backward else 1) + GRACE_SECONDS)
            result = self._result(reply)
        except (OSError, protocol.ProtocolError) as exc:
            # A function that ended its process would end it again: later calls to it fail at once, so
            # they cannot use up the submission's time budget.
            event = self._ended(self._end_fork(wait=True), f"the call to {fn}")
            self._given_up[fn] = f"an earlier call to {fn} ended the notebook's process, so it is not called again"
            if isinstance(exc, protocol.ProtocolError) and not isinstance(exc, protocol.PeerGone):
                return CallResult(ok=False, error=CallError(ErrorKind.MALFORMED, clip(exc, MESSAGE_CHARS)))
            return CallResult(ok=False, error=CallError(ErrorKind.CRASHED, event))
        if result.ok:
            self._returned.add(fn)
        elif result.error is not None and result.error.type == ErrorKind.TIMEOUT:
            # Slow but finishing on smaller inputs is still graded on every call; never finishing is not.
            self._timeouts[fn] = times = self._timeouts.get(fn, 0) + 1
            if times >= TIMEOUTS_BEFORE_GIVING_UP and fn not in self._returned:
                self._given_up[fn] = f"{fn} ran past the time limit {times} times, so it is not called again"
        return result

    def _result(self, reply: dict) -> CallResult:
        output = reply.get("output") or {}
        text = clip(output.get("text", ""), self.limits.output_chars) if isinstance(output, dict) else ""
        if isinstance(output, dict) and output.get("dropped"):
            text += f"\n[... {clip(output['dropped'], 20)} more characters of output dropped]"
        seconds = reply.get("seconds", 0.0)
        if type(seconds) not in (int, float):
            raise protocol.ProtocolError("seconds is not a number")
        if reply.get("ok") is not True:
            error = call_error(reply.get("error"), self.cells)
            if error.type == ErrorKind.TIMEOUT:
                self.hit_limit = True
            return CallResult(ok=False, error=error, output=text, seconds=float(seconds))
        backward_error = reply.get("backward_error")
        if backward_error is not None and type(backward_error) is not str:
            raise protocol.ProtocolError("backward_error is not a string")
        args_after = reply.get("args_after")
        if not isinstance(args_after, list):
            raise protocol.ProtocolError("args_after is not a list")
        handle = reply.get("handle")
        if handle is not None and type(handle) is not int:
            raise protocol.ProtocolError("handle is not an int")
        budget = Budget()  # one for the whole reply: the result and every argument after the call
        try:
            value = decode(reply.get("result"), budget=budget)
            after = tuple(decode(a, budget=budget) for a in args_after)
        except TooLarge as exc:  # the student's value, not a broken protocol: this call fails, the process lives
            error = CallError(ErrorKind.TOO_LARGE, str(exc))
            return CallResult(ok=False, error=error, output=text, seconds=float(seconds))
        return CallResult(
            ok=True, value=value, args_after=after, backward_error=backward_error, output=text,
            seconds=float(seconds), handle=None if handle is None else Handle(handle),
        )  # fmt: skip
