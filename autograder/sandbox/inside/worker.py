"""Inside the sandbox: the zygote, the sandbox's first process and the parent of every submission's process.

It imports torch, numpy, matplotlib and course_utils once, then waits on its control socket. For each
submission it forks a fresh child (session.py) that runs the student's notebook and grades each function
in a fork of its own. The assignment's helpers are never here: each function's fork gets them from the
grader, without what computes that function's answer. Between submissions the
zygote kills every process the student left behind and wipes the scratch space, so nothing from one
student survives into the next.

The files of this folder run in the sandbox, never in the grader: they import only the standard library,
torch, numpy, matplotlib, course_utils and each other.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import select
import shutil
import signal
import socket
import sys
import time

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def preload(inert_modules: list[str]) -> None:
    """Import the heavy libraries once, in the zygote, so every submission's fork starts warm; make the
    functions of `inert_modules` (the assignment's INERT_MODULES) do nothing."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    environment = set(os.environ)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)
    # An optimizer's first step imports torch._dynamo (about a second): pay it here, once, not per student.
    weight = torch.zeros(1, requires_grad=True)
    weight.grad = torch.zeros(1)
    for optimizer in (torch.optim.SGD([weight], lr=0.1), torch.optim.Adam([weight], lr=0.1)):
        optimizer.step()
    import session

    for name in set(os.environ) - environment:  # e.g. TORCHINDUCTOR_CACHE_DIR: students see a plain environment
        del os.environ[name]
    try:
        import course_utils  # noqa: F401  (what notebooks import: warm in every fork)
    except ImportError:
        pass
    # Grading needs the student's functions, not their figures or their public self-checks: the assignment
    # names the modules of course_utils whose functions become inert while grading.
    for module_name in inert_modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        package = sys.modules.get(module_name.rpartition(".")[0])
        for name, value in list(vars(module).items()):
            if callable(value) and getattr(value, "__module__", "") == module_name:
                setattr(module, name, session.Inert)
                if package is not None and getattr(package, name, None) is value:
                    setattr(package, name, session.Inert)


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
    preload(config.get("inert_modules", []))
    import session

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
                    session.child_main(data, config, tell_zygote)
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
