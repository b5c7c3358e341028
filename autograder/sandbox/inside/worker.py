"""The untrusted side of grading: runs student code inside the sandbox and answers with plain data.

One worker process (the zygote) imports torch, numpy and matplotlib once, then waits on its control
socket. For each submission it forks a fresh child that drops privileges, applies the resource limits,
executes the notebook's code cells in order and answers the trusted side's call requests over the data
socket it was handed. Between submissions the zygote kills every process the student left behind and
wipes the scratch space, so nothing from one student survives into the next.

This file runs in the sandbox, never in the grader: it imports only the standard library, torch, numpy,
matplotlib, course_utils and its sibling protocol.py.
"""

from __future__ import annotations

import base64
import builtins
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback

import protocol

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
MAX_TENSOR_ELEMENTS = 2_000_000  # larger results are described without their data
MAX_ITEMS = 100_000  # list/tuple items described per value
MAX_MESSAGE_CHARS = 2_000  # error messages and strings, per value

torch = None  # imported by preload(); module-level so helpers can use it


class _Inert:
    """Stands in for plotting helpers and check() while grading: accepts any call or attribute."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __getattr__(self, name):
        return _Inert()


def preload() -> None:
    """Import the heavy libraries once, in the zygote, so every submission's fork starts warm."""
    global torch
    os.environ.setdefault("MPLBACKEND", "Agg")
    environment = set(os.environ)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import torch as _torch

    torch = _torch
    torch.set_num_threads(1)
    # An optimizer's first step imports torch._dynamo (about a second): pay it here, once, not per student.
    weight = torch.zeros(1, requires_grad=True)
    weight.grad = torch.zeros(1)
    for optimizer in (torch.optim.SGD([weight], lr=0.1), torch.optim.Adam([weight], lr=0.1)):
        optimizer.step()
    for name in set(os.environ) - environment:  # e.g. TORCHINDUCTOR_CACHE_DIR: students see a plain environment
        del os.environ[name]
    try:
        import course_utils
    except ImportError:
        return
    # Grading needs the student's functions, not their figures or their public self-checks.
    for module_name in ("course_utils.plots", "course_utils.check"):
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name, value in list(vars(module).items()):
            if callable(value) and getattr(value, "__module__", "") == module_name:
                setattr(module, name, _Inert)
                if getattr(course_utils, name, None) is value:
                    setattr(course_utils, name, _Inert)


# ---------------------------------------------------------------------------------------------------------
# Turning values into plain data (sandbox -> grader)


def describe(value, depth: int = 0) -> dict:
    """Plain-data description of any value. Exact types only: a subclass is reported as what it is."""
    kind = type(value)
    if value is None:
        return {"kind": "none"}
    if kind is bool:
        return {"kind": "bool", "value": value}
    if kind is int:
        return {"kind": "int", "value": value} if abs(value) < 2**63 else {"kind": "opaque", "type": "int"}
    if kind is float:
        return {"kind": "float", "value": value}
    if kind is str:
        return {"kind": "str", "value": value[:MAX_MESSAGE_CHARS]}
    if kind in (list, tuple) and depth < 4:
        items = [describe(item, depth + 1) for item in value[:MAX_ITEMS]]
        return {"kind": kind.__name__, "items": items, "length": len(value)}
    if kind is torch.Tensor:
        return describe_tensor(value)
    numpy = sys.modules["numpy"]
    if kind is numpy.ndarray:
        return describe_ndarray(value)
    try:
        type_name = f"{kind.__module__}.{kind.__qualname__}"
    except Exception:
        type_name = "unknown type"
    if isinstance(value, torch.Tensor):
        type_name += " (a torch.Tensor subclass)"
    return {"kind": "opaque", "type": str(type_name)[:200]}


def _data_field(array64) -> str:
    return base64.b64encode(array64.tobytes()).decode()


def describe_tensor(t, with_grad: bool = True) -> dict:
    dtype = str(t.dtype).removeprefix("torch.")
    info = {
        "kind": "tensor",
        "dtype": dtype,
        "shape": list(t.shape),
        "requires_grad": bool(t.requires_grad),
        "has_grad_fn": t.grad_fn is not None,
        "is_leaf": bool(t.is_leaf),
        "version": int(t._version),
        "data": None,
    }
    if dtype in protocol.NUMERIC_DTYPES and t.numel() <= MAX_TENSOR_ELEMENTS and t.device.type == "cpu":
        plain = torch.Tensor.detach(t).to(torch.float64).contiguous().numpy()
        info["data"] = _data_field(plain)
    if with_grad:
        grad = t.grad if t.is_leaf else None  # only leaves accumulate .grad
        info["grad"] = None if grad is None else describe(grad)
    return info


def describe_ndarray(a) -> dict:
    numpy = sys.modules["numpy"]
    info = {"kind": "ndarray", "dtype": str(a.dtype), "shape": list(a.shape), "data": None}
    if str(a.dtype) in protocol.NUMERIC_DTYPES and a.size <= MAX_TENSOR_ELEMENTS:
        info["data"] = _data_field(numpy.ascontiguousarray(a, dtype=numpy.float64))
    return info


# ---------------------------------------------------------------------------------------------------------
# Building call arguments from the grader's specs (grader -> sandbox)


def build(spec: dict):
    """Return (object passed to the student's function, what to report about it after the call)."""
    kind = spec["kind"]
    if kind in ("none", "bool", "int", "float", "str"):
        return spec.get("value"), None
    if kind == "tensor":
        t = build_tensor(spec)
        return t, t
    if kind in ("list", "tuple", "generator"):
        built = [build(item) for item in spec["items"]]
        objects = [obj for obj, _ in built]
        tracked = ("items", [track for _, track in built])
        if kind == "list":
            return objects, tracked
        if kind == "tuple":
            return tuple(objects), tracked
        return (obj for obj in objects), tracked
    if kind == "line_model":
        dtype = getattr(torch, spec["dtype"])
        model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Flatten(0, 1)).to(dtype)
        with torch.no_grad():
            model[0].weight.fill_(spec["weight"])
            model[0].bias.fill_(spec["bias"])
        return model, ("model", model)
    if kind == "polynomial":
        return make_polynomial(spec["terms"]), None
    raise ValueError(f"unknown argument kind {kind!r}")


def build_tensor(spec: dict):
    numpy = sys.modules["numpy"]
    array = numpy.frombuffer(base64.b64decode(spec["data"]), dtype=numpy.float64).reshape(spec["shape"])
    t = torch.tensor(array, dtype=getattr(torch, spec["dtype"]))
    if spec.get("requires_grad"):
        t.requires_grad_(True)
    if spec.get("grad") is not None:
        t.grad = build_tensor(spec["grad"])
    return t


def make_polynomial(terms: list):
    """f(*xs) = sum over terms of coef * prod(x_i ** power_i), summed to a scalar."""

    def f(*xs):
        total = 0
        for coef, powers in terms:
            term = coef
            for x, power in zip(xs, powers, strict=True):
                if power:
                    term = term * x**power
            total = total + term
        return total.sum()

    return f


def describe_parameter(value) -> dict:
    """A model's parameter is a torch.nn.Parameter (exactly: the worker made it), which describe() would call
    an opaque Tensor subclass; anything a student put in its place is still described as what it is."""
    if type(value) is torch.nn.Parameter:
        return describe_tensor(value)
    return describe(value)


def describe_after(tracked) -> dict:
    if tracked is None:
        return {"kind": "none"}
    if isinstance(tracked, tuple) and tracked[0] == "items":
        return {"kind": "list", "items": [describe_after(t) for t in tracked[1]], "length": len(tracked[1])}
    if isinstance(tracked, tuple) and tracked[0] == "model":
        linear = tracked[1][0]
        return {
            "kind": "model",
            "weight": describe_parameter(linear.weight),
            "bias": describe_parameter(linear.bias),
        }
    return describe_tensor(tracked)


# ---------------------------------------------------------------------------------------------------------
# Known-good stand-ins, so that train is graded on its own


def _good_mse(y_pred, y_true):
    return torch.nn.functional.mse_loss(y_pred, y_true)


def _good_sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad


STAND_INS = {"mse": _good_mse, "sgd_step": _good_sgd_step}


# ---------------------------------------------------------------------------------------------------------
# The per-submission child


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
    for name, value in (
        ("RLIMIT_AS", address_space),
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

    namespace = {"__name__": "__main__", "__builtins__": builtins, "display": _Inert()}
    for index, source in enumerate(request["cells"]):
        if index in request.get("skip", ()):
            status = {"status": "skipped", "error": None}
        else:
            status = run_cell(index, source, namespace, limits["cell_seconds"])
        status["output"] = capture.take()
        protocol.send(data, {"op": "cell", "index": index, **status})
    protocol.send(data, {"op": "loaded"})

    while True:
        request = protocol.receive(data)
        if request.get("op") != "call":
            os._exit(0)
        started = time.perf_counter()
        reply = handle_call(request, namespace, limits)
        reply["seconds"] = time.perf_counter() - started
        reply["output"] = capture.take()
        protocol.send(data, reply)


def run_cell(index: int, source: str, namespace: dict, seconds: float) -> dict:
    code = strip_magics(source)
    if code is None:
        return {"status": "skipped", "error": None}
    try:
        compiled = compile(code, f"<cell {index}>", "exec")
        run_with_alarm(seconds, exec, compiled, namespace)
    except CallTimeout:
        return {"status": "timeout", "error": {"type": "Timeout", "message": f"ran past {seconds} s"}}
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the next cell still runs
        return {"status": "error", "error": error_info(exc)}
    return {"status": "ok", "error": None}


def handle_call(request: dict, namespace: dict, limits: dict) -> dict:
    name = request["fn"]
    fn = namespace.get(name)
    if fn is None:
        return {"ok": False, "error": {"type": "Missing", "message": f"{name} is not defined", "where": None}}
    if not callable(fn):
        message = f"{name} is not a function"
        return {"ok": False, "error": {"type": "NotCallable", "message": message, "where": None}}
    try:
        built = [build(spec) for spec in request["args"]]
    except Exception as exc:
        return {"ok": False, "error": {"type": "BadRequest", "message": repr(exc), "where": None}}
    saved = {key: namespace.get(key) for key in request.get("stand_ins", ())}
    namespace.update({key: STAND_INS[key] for key in saved})
    try:
        result = run_with_alarm(limits["call_seconds"], fn, *[obj for obj, _ in built])
    except CallTimeout:
        message = f"did not return within {limits['call_seconds']} s"
        return {"ok": False, "error": {"type": "Timeout", "message": message, "where": None}}
    except BaseException as exc:
        return {"ok": False, "error": error_info(exc)}
    finally:
        namespace.update(saved)
    reply = {"ok": True, "result": safe(describe, result), "backward_error": None}
    if request.get("backward"):
        reply["backward_error"] = run_backward(result, limits)
    reply["args_after"] = [safe(describe_after, track) for _, track in built]
    return reply


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


# ---------------------------------------------------------------------------------------------------------
# The zygote


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.005)


EXIT_GRACE_SECONDS = 0.25


def exit_status(child_pid: int | None) -> str | None:
    """How the submission's process ended, if it ended on its own before the reset."""
    if not child_pid:
        return None
    # A process that is exiting closes its sockets (which is how the grader noticed) a moment before it
    # can be reaped: give it that moment, or an os._exit would be reported as a hang.
    deadline = time.monotonic() + EXIT_GRACE_SECONDS
    while True:
        try:
            pid, status = os.waitpid(child_pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if pid != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    if pid == 0:
        return None
    if os.WIFSIGNALED(status):
        return signal.Signals(os.WTERMSIG(status)).name
    return f"exit {os.WEXITSTATUS(status)}"


def reset(config: dict, child_pid: int | None) -> bool:
    """Kill everything the last student left running and wipe the scratch space; False if something could
    not be wiped."""
    if config["mode"] == "plain":
        if child_pid:
            try:
                os.killpg(child_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    else:  # alone in our pid namespace: everyone but us and init goes
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reap()
    uid = config.get("student_uid")
    cleaner = os.fork()
    if cleaner == 0:
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            wipe(config["scratch"])
        finally:
            os._exit(0)
    os.waitpid(cleaner, 0)
    return not os.listdir(config["scratch"])


def wipe(folder: str) -> None:
    """Remove everything in folder, even what its owner made unreadable or unwritable (a folder of mode 000
    survived rmtree, and with it whatever one student left for the next)."""
    for entry in os.scandir(folder):
        try:
            if entry.is_dir(follow_symlinks=False):
                os.chmod(entry.path, 0o700)
                for base, dirs, _ in os.walk(entry.path):  # top-down: each folder is opened after its chmod
                    for name in dirs:
                        if not os.path.islink(os.path.join(base, name)):
                            os.chmod(os.path.join(base, name), 0o700)
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


# SysV shared memory, message queues and semaphores, and POSIX message queues, live in the IPC namespace
# rather than in a process: a segment filled and detached escapes RLIMIT_AS, and all of them outlive the
# student who made them, into the next student's process. The sandbox has an IPC namespace of its own, in
# which the zygote (its root) can allow none. Never done in plain mode: there it would change the host's.
NO_IPC = {
    "/proc/sys/kernel/shmmni": "0",
    "/proc/sys/kernel/msgmni": "0",
    "/proc/sys/kernel/sem": "250 32000 32 0",  # semmni, the number of semaphore sets, is the last field
    "/proc/sys/fs/mqueue/queues_max": "0",
}


def forbid_ipc_objects() -> None:
    for path, value in NO_IPC.items():
        try:
            with open(path, "w") as handle:
                handle.write(value)
        except OSError:  # bwrap-user mode is not root in its namespace: rlimits and cgroups must do
            pass


PROCESS_GRACE_SECONDS = 5.0  # past the submission's budget (the grader waits at most 3 s past it for a reply)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    config = json.loads(sys.argv[2])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # students cannot ptrace or read the zygote
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphans come back to us to be reaped
    scratch = config["scratch"]
    os.makedirs(scratch, exist_ok=True)
    os.chmod(scratch, 0o1777)
    if config["mode"] != "plain":
        forbid_ipc_objects()
    preload()
    control.send(b'{"op":"ready"}')
    child_pid = None
    # A student process that ignores its alarms and trickles bytes into its data socket keeps the grader
    # waiting on it forever (each read gets a byte before its timeout). The child reports its time budget
    # through a pipe before student code runs, and the zygote ends it when that budget is spent.
    report: int | None = None  # read end of that pipe, until the child has reported
    deadline: float | None = None
    while True:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        readable, _, _ = select.select([control] if report is None else [control, report], [], [], timeout)
        if not readable:  # past the deadline: the grader then sees the connection close
            reset(config, child_pid)
            deadline = None
            continue
        if report is not None and report in readable:
            text = os.read(report, 64)
            os.close(report)
            report = None
            try:
                deadline = time.monotonic() + float(text)
            except ValueError:  # the child died before it could report: nothing left to time
                pass
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, 4096, 1)
        except OSError:
            return
        if not message:
            return
        op = json.loads(message)["op"]
        if report is not None:
            os.close(report)
            report = None
        deadline = None
        if op == "start":
            data = socket.socket(fileno=fds[0])
            report, tell_zygote = os.pipe()
            child_pid = os.fork()
            if child_pid == 0:
                try:
                    control.close()
                    os.close(report)
                    child_main(data, config, tell_zygote)
                finally:
                    os._exit(0)
            os.close(tell_zygote)
            data.close()
            control.send(json.dumps({"op": "started", "pid": child_pid}).encode())
        elif op == "reset":
            ended = exit_status(child_pid)
            clean = reset(config, child_pid)
            child_pid = None
            control.send(json.dumps({"op": "clean", "child_exit": ended}).encode())
            if not clean:  # fail safe: the next submission gets a fresh sandbox (and a fresh /tmp)
                return
        else:
            return


if __name__ == "__main__":
    main()
