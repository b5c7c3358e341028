"""Inside the sandbox: one submission's process. It drops privileges, applies the limits, runs the
notebook's code cells in order, then grades each function in a fork of its own until told to stop.

Each fork serves the grader's call requests over a connection of its own, with plain data. It starts as
the process stood after the cells (copy-on-write: milliseconds, not a rerun of the notebook), receives the
assignment's helpers as the grader cut them for the function under test (no code that computes that
function's answer, see autograder/sandbox/answers.py), and ends when that function's tests are done:
nothing one function's tests did, kept or were handed survives into another's, and a crash costs only
the function whose process crashed.

A call names what to call: a function the notebook defined ("student"), a function of the helpers
("helper"), or an object kept from an earlier call in the same fork ("handle", e.g. a model the student
returned). With `keep`, the call's result stays here under a new handle the grader can pass back; the
grader holds the number, never the object.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
import types

import protocol
import torch
from build import BadSpec, build
from describe import MAX_MESSAGE_CHARS, describe, describe_tensor
from protocol import ErrorKind

PROCESS_GRACE_SECONDS = 5.0  # past the submission's budget (the grader waits at most 3 s past it for a reply)


class Inert:
    """Stands in for plotting helpers and check() while grading: accepts any call or attribute."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Inert()

    def __getattr__(self, name):
        return Inert()


class CappedWriter:
    """A text stream that keeps the first `cap` characters and counts the rest."""

    def __init__(self, cap: int):
        self.cap = cap
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def write(self, text) -> int:
        text = str(text)
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def take(self) -> dict:
        out = {"text": "".join(self.parts), "dropped": self.dropped}
        self.parts, self.kept, self.dropped = [], 0, 0
        return out


class CallTimeout(BaseException):
    """Raised inside student code when a cell or call runs past its wall-clock limit."""


def _on_alarm(signum, frame):
    raise CallTimeout("ran past the time limit")


def run_with_alarm(seconds: float, fn, *args):
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def strip_magics(source: str) -> str | None:
    """IPython magics and shell escapes are skipped (a cell magic skips its whole cell)."""
    if source.lstrip().startswith("%%"):
        return None
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append(line[: len(line) - len(stripped)] + "pass" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def error_info(exc: BaseException) -> dict:
    """Type, message and the student's cell/line where it happened: no grader frames."""
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<cell "):
            where = f"{frame.filename[1:-1]}, line {frame.lineno}"
    try:
        message = str(exc)
    except Exception:
        message = "(message could not be read)"
    return {"type": type(exc).__name__, "message": message[:MAX_MESSAGE_CHARS], "where": where}


def apply_limits(limits: dict, student_uid: int | None) -> None:
    status = open("/proc/self/status").read()
    vm_kib = int(status.split("VmSize:")[1].split()[0])
    address_space = vm_kib * 1024 + limits["memory_mb"] * 1024 * 1024
    # Without the address-space limit (a GPU assignment: CUDA maps far more than it uses), the sandbox's
    # memory cgroup is the only cap; the launcher refuses to start such a sandbox without one.
    capped = ("RLIMIT_AS", address_space) if limits.get("address_space_limit", True) else None
    for name, value in (
        *([capped] if capped else []),
        ("RLIMIT_FSIZE", limits["file_size_mb"] * 1024 * 1024),
        ("RLIMIT_NOFILE", 256),
        ("RLIMIT_CORE", 0),
    ):
        resource.setrlimit(getattr(resource, name), (value, value))
    # SIGXCPU at the soft limit says why the process ended; the kernel checks the hard limit (SIGKILL,
    # which reads as "out of memory") first, so the hard limit must lie beyond the soft one.
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 2))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
    try:  # if memory runs out, the kernel kills the student's processes first, never the grader's
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass
    if student_uid is not None:
        os.setgroups([])
        os.setgid(student_uid)
        os.setuid(student_uid)
    # RLIMIT_NPROC counts processes of the real uid, so it bites only once the uid is the student's.
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))


def child_main(data: socket.socket, config: dict, tell_zygote: int) -> None:
    os.setsid()
    request = protocol.receive(data)
    limits = request["limits"]
    # Before any student code runs: the zygote ends this process (and all it started) once it outlives
    # its submission's whole time budget, whatever it does to its own alarms or to its data socket.
    os.write(tell_zygote, str(float(limits["submission_seconds"]) + PROCESS_GRACE_SECONDS).encode())
    os.close(tell_zygote)
    apply_limits(limits, config.get("student_uid"))
    workdir = tempfile.mkdtemp(prefix="work-", dir=config["scratch"])
    os.chdir(workdir)
    os.environ["HOME"] = workdir
    os.environ["TMPDIR"] = workdir
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    capture = CappedWriter(limits["output_chars"])
    sys.stdout = sys.stderr = capture

    namespace = {"__name__": "__main__", "__builtins__": builtins, "display": Inert()}
    for index, source in enumerate(request["cells"]):
        if index in request.get("skip", ()):
            status = {"status": "skipped", "error": None}
        else:
            status = run_cell(index, source, namespace, limits["cell_seconds"])
        status["output"] = capture.take()
        protocol.send(data, {"op": "cell", "index": index, **status})
    protocol.send(data, {"op": "loaded"})
    serve_forks(data, namespace, limits, capture, Scratch(workdir), config.get("student_uid"))


class Scratch:
    """The scratch space as the cells left it, for every fork to start from: what one function's process
    wrote there (files, folders) is gone before the next one starts. Best effort within the space's size:
    a copy that cannot be made leaves the folder as it is."""

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.pristine = tempfile.mkdtemp(prefix="cells-", dir=os.path.dirname(workdir))
        try:
            shutil.copytree(workdir, self.pristine, symlinks=True, dirs_exist_ok=True)
        except (OSError, shutil.Error):
            pass

    def restore(self) -> None:
        for entry in os.scandir(os.path.dirname(self.workdir)):
            if entry.path == self.pristine:
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass
        try:
            shutil.copytree(self.pristine, self.workdir, symlinks=True, dirs_exist_ok=True)
        except (OSError, shutil.Error):
            os.makedirs(self.workdir, exist_ok=True)
        os.chdir(self.workdir)


def serve_forks(
    data: socket.socket, namespace: dict, limits: dict, capture: CappedWriter, scratch: Scratch, student_uid
) -> None:
    """One fork at a time, as the grader asks: "fork" (its connection follows as a file descriptor on a
    one-byte message), "end" (kill it, say how it ended), anything else: exit."""
    fork: int | None = None
    while True:
        request = protocol.receive(data)
        op = request.get("op")
        if op == "fork":
            _, fds, _, _ = socket.recv_fds(data, 1, 1)
            if fork is not None:  # killed first, reaped after the scratch space is back: both run at once
                with contextlib.suppress(ProcessLookupError):
                    os.kill(fork, signal.SIGKILL)
            if len(fds) != 1:
                os._exit(0)
            scratch.restore()
            end_fork(fork, wait=False)
            try:
                fork, made_room = os.fork(), False
            except BlockingIOError:  # the notebook's own processes used up the process limit
                stop_the_notebooks_processes(student_uid)
                fork, made_room = os.fork(), True
            if fork == 0:
                try:
                    data.close()
                    fork_main(socket.socket(fileno=fds[0]), namespace, limits, capture)
                finally:
                    os._exit(0)
            os.close(fds[0])  # closed before the grader hears of the fork, and sends anything on it
            protocol.send(data, {"op": "forked", "made_room": made_room})
        elif op == "end":
            protocol.send(data, {"op": "ended", "exit": end_fork(fork, wait=bool(request.get("wait")))})
            fork = None
        else:
            end_fork(fork, wait=False)
            os._exit(0)


EXIT_GRACE_SECONDS = 0.25
REAP_SECONDS = 2.0


def stop_the_notebooks_processes(student_uid) -> None:
    """Kill every other process the notebook started (all of the student's uid, in the sandbox; this
    process group, in plain mode, never the host's other processes) and reap them, so that they no longer
    count against the process limit."""
    if student_uid is not None:
        try:
            os.kill(-1, signal.SIGKILL)  # every process this uid may signal, except this one
        except ProcessLookupError:
            pass
    else:
        for entry in os.listdir("/proc"):
            try:
                pid = int(entry)
                group = int(open(f"/proc/{entry}/stat").read().rpartition(")")[2].split()[2])
                if pid != os.getpid() and group == os.getpgrp():
                    os.kill(pid, signal.SIGKILL)
            except (ValueError, IndexError, OSError):
                pass
    deadline = time.monotonic() + REAP_SECONDS
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.005)
        except ChildProcessError:
            return


def end_fork(pid: int | None, wait: bool) -> str | None:
    """Kill a fork (if still running) and reap it; how it ended if it ended on its own ("SIGXCPU",
    "exit 3"), else None. `wait`: give a fork that is exiting (its connection closed) a moment to finish,
    or an os._exit would read as a hang."""
    if pid is None:
        return None
    deadline = time.monotonic() + (EXIT_GRACE_SECONDS if wait else 0.0)
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            if os.WIFSIGNALED(status):
                return signal.Signals(os.WTERMSIG(status)).name
            return f"exit {os.WEXITSTATUS(status)}"
        if time.monotonic() >= deadline:
            break
        time.sleep(0.005)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    return None


def fork_main(sock: socket.socket, namespace: dict, limits: dict, capture: CappedWriter) -> None:
    """One graded function's process: load the helpers the grader sent, then answer calls until told
    to stop."""
    helpers, failed = load_helpers(protocol.receive(sock).get("source"))
    handles: dict[int, object] = {}  # objects kept for the grader, by handle
    capture.take()  # nothing the session printed belongs to this function's calls
    while True:
        request = protocol.receive(sock)
        if request.get("op") != "call":
            os._exit(0)
        started = time.perf_counter()
        reply = dict(failed) if failed else handle_call(request, namespace, limits, helpers, handles)
        reply["seconds"] = time.perf_counter() - started
        reply["output"] = capture.take()
        protocol.send(sock, reply)


def load_helpers(source) -> tuple[types.ModuleType | None, dict | None]:
    """(the helpers module, None), or (None, the error every call gets: the helpers would not load)."""
    if not isinstance(source, str):
        return None, None
    module = types.ModuleType("helpers")
    try:
        exec(compile(source, "<helpers>", "exec"), module.__dict__)
    except BaseException as exc:
        return None, error(ErrorKind.BAD_REQUEST, f"the assignment's helpers did not load: {error_info(exc)}")
    return module, None


def run_cell(index: int, source: str, namespace: dict, seconds: float) -> dict:
    code = strip_magics(source)
    if code is None:
        return {"status": "skipped", "error": None}
    try:
        compiled = compile(code, f"<cell {index}>", "exec")
        run_with_alarm(seconds, exec, compiled, namespace)
    except CallTimeout:
        return {"status": "timeout", "error": {"type": ErrorKind.TIMEOUT, "message": f"ran past {seconds} s"}}
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the next cell still runs
        return {"status": "error", "error": error_info(exc)}
    return {"status": "ok", "error": None}


def error(kind: str, message: str) -> dict:
    return {"ok": False, "error": {"type": kind, "message": message, "where": None}}


def callee(request: dict, namespace: dict, helpers, handles: dict):
    """(the callable, None) or (None, the error reply)."""
    target = request["callee"]
    kind, name = target.get("kind"), target.get("name")
    if kind == "student":
        fn = namespace.get(name)
        if fn is None:
            return None, error(ErrorKind.MISSING, f"{name} is not defined")
        if not callable(fn):
            return None, error(ErrorKind.NOT_CALLABLE, f"{name} is not a function")
        return fn, None
    if kind == "handle":
        if target.get("id") not in handles:
            return None, error(
                ErrorKind.BAD_REQUEST, f"no object kept under handle {target.get('id')!r} in this process"
            )
        return handles[target["id"]], None
    if kind == "helper":
        fn = getattr(helpers, name, None) if helpers is not None and not str(name).startswith("_") else None
        if not callable(fn):
            return None, error(ErrorKind.BAD_REQUEST, f"the assignment's helpers module has no function {name!r}")
        return fn, None
    return None, error(ErrorKind.BAD_REQUEST, f"unknown callee kind {kind!r}")


def handle_call(request: dict, namespace: dict, limits: dict, helpers, handles: dict) -> dict:
    fn, failed = callee(request, namespace, helpers, handles)
    if failed:
        return failed
    stand_ins = getattr(helpers, "STAND_INS", {}) if helpers is not None else {}
    unknown = [name for name in request.get("stand_ins", ()) if name not in stand_ins]
    if unknown:
        return error(
            ErrorKind.BAD_REQUEST,
            f"the helpers of this function's process have no stand-in for {unknown} (a function with a stand-in "
            "or builder of its own is given nobody's: see docs/authoring.md, What helpers may hold)",
        )
    try:
        built = [build(spec, helpers, handles) for spec in request["args"]]
    except BadSpec as exc:
        return error(ErrorKind.BAD_REQUEST, str(exc))
    except Exception as exc:  # a helper that failed on what the student's objects are (e.g. a handle)
        return {"ok": False, "error": error_info(exc)}
    saved = {key: namespace.get(key) for key in request.get("stand_ins", ())}
    namespace.update({key: stand_ins[key] for key in saved})
    try:
        result = run_with_alarm(limits["call_seconds"], fn, *[obj for obj, _ in built])
    except CallTimeout:
        return error(ErrorKind.TIMEOUT, f"did not return within {limits['call_seconds']} s")
    except BaseException as exc:
        return {"ok": False, "error": error_info(exc)}
    finally:
        namespace.update(saved)
    reply = {"ok": True, "result": safe(describe, result), "backward_error": None, "handle": None}
    if request.get("keep") and result is not None:
        reply["handle"] = len(handles) + 1
        handles[reply["handle"]] = result
    if request.get("backward"):
        reply["backward_error"] = run_backward(result, limits)
    reply["args_after"] = [safe(describe_after, track) for _, track in built]
    return reply


def describe_after(tracked) -> dict:
    """An argument as it is after the call: tensors and objects as they are now, lists item by item."""
    if tracked is None:
        return {"kind": "none"}
    if not isinstance(tracked, tuple):  # a tensor the grader sent
        return describe_tensor(tracked)
    if tracked[0] == "items":
        return {"kind": "list", "items": [describe_after(t) for t in tracked[1]], "length": len(tracked[1])}
    if tracked[0] == "object":
        return describe(tracked[1])
    raise ValueError(f"cannot describe {tracked[0]!r}")


def safe(fn, value) -> dict:
    try:
        return fn(value)
    except BaseException as exc:
        return {"kind": "opaque", "type": f"could not be described ({type(exc).__name__})"}


def run_backward(result, limits: dict) -> str | None:
    if type(result) is not torch.Tensor:
        return "the result is not a tensor, so autograd cannot run backward through it"
    if result.grad_fn is None:
        return "the result carries no autograd history (was it detached, or rebuilt from Python numbers?)"
    try:
        target = result if result.numel() == 1 else result.sum()
        run_with_alarm(limits["call_seconds"], target.backward)
    except BaseException as exc:
        return f"backward failed: {type(exc).__name__}: {str(exc)[:300]}"
    return None
