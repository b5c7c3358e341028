"""Starts and drives the sandboxed worker (the zygote) from the trusted side.

Where bubblewrap works, the zygote runs in its own pid, network, IPC and UTS namespaces, sees only a
read-only system and Python environment plus a private tmpfs, and (when the grader is root) keeps just
the capabilities it needs to drop each student's process to an unprivileged uid and to kill what that
process leaves behind. Elsewhere it falls back to a plain subprocess with rlimits and says loudly that
grading is not isolated; `require_isolation` turns that fallback into an error. In either mode the whole
sandbox goes into a memory cgroup of its own (and a CPU cgroup, so that it gets one fair share however many
processes it starts) where the host lets the grader make them.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
from pathlib import Path

from autograder.course.limits import SANDBOX_MEMORY_MB, SCRATCH_MB
from autograder.errors import KitError

INSIDE = Path(__file__).resolve().parent / "inside"  # the code that runs in the sandbox
STARTUP_SECONDS = 60.0  # importing torch in a cold sandbox takes ~3 s; a loaded machine may need more
CONTROL_SECONDS = 20.0
SYSTEM_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/alternatives")
# Packages of the kit that must never be importable inside the sandbox, even from an installed copy.
SECRET_PACKAGES = ("solutions", "autograder")


class SandboxError(KitError, RuntimeError):
    """The sandbox could not be started, or died and could not be restarted."""


class IsolationRefused(SandboxError):
    """Isolation is required, and this machine cannot isolate student code: nothing is graded."""


def refuse_unisolated(required: bool, why: str = "") -> None:
    """Raise IsolationRefused when isolation is required and bubblewrap cannot run here."""
    mode, reason = isolation()
    if required and mode == "plain":
        raise IsolationRefused(
            f"student code cannot be isolated here ({reason}) and {why or '--require-sandbox was given'}"
        )


class NotIsolatedWarning(UserWarning):
    """Grading runs without bubblewrap: student code can see and touch the grader's files."""


def _bwrap_works(root: bool) -> str | None:
    """None if bwrap can build our kind of sandbox here, else the reason it cannot."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc"]
    args += ["--dev", "/dev", "--cap-add", "CAP_SETUID"] if root else ["--dev", "/dev"]
    probe = subprocess.run([*args, "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"bwrap cannot create namespaces here: {probe.stderr.strip()[:300]}"
    return None


@functools.cache
def _bwrap_has_size() -> bool:
    """bwrap >= 0.7 can give a tmpfs a size; older versions reject the option."""
    try:
        return "--size" in subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False


@functools.cache
def isolation() -> tuple[str, str | None]:
    """The sandbox mode this machine supports ("bwrap-root", "bwrap-user" or "plain") and, for plain,
    why bwrap is unavailable."""
    root = os.geteuid() == 0
    reason = _bwrap_works(root)
    if reason is None:
        return ("bwrap-root" if root else "bwrap-user"), None
    return "plain", reason


def _mount_args(path: str) -> list[str]:
    """Bind one host path read-only, creating its parent folders world-traversable."""
    if not os.path.lexists(path):
        return []
    args = []
    parent = Path(path).parent
    for ancestor in reversed([parent, *parent.parents]):
        if str(ancestor) != "/":
            args += ["--perms", "0755", "--dir", str(ancestor)]
    if os.path.islink(path) and path in SYSTEM_PATHS:
        return args + ["--symlink", os.readlink(path), path]
    return args + ["--ro-bind", path, path]


def _python_paths() -> list[str]:
    paths = {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent)}
    paths |= {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    return sorted(paths, key=len)


def _secret_package_masks() -> list[str]:
    """tmpfs over any installed (non-editable) copy of the kit's grader or solutions."""
    args = []
    for name in SECRET_PACKAGES:
        for site in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
            candidate = Path(site) / name
            if candidate.is_dir():
                args += ["--tmpfs", str(candidate)]
    return args


def bwrap_command(sandbox_root: Path, root: bool, scratch_mb: int = SCRATCH_MB) -> list[str]:
    args = [
        "bwrap", "--die-with-parent", "--new-session", "--unshare-net", "--unshare-pid", "--unshare-ipc",
        "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox", "--clearenv",
        "--proc", "/proc", "--dev", "/dev",
    ]  # fmt: skip
    if _bwrap_has_size():  # /tmp is RAM: without a size its files could fill half the machine's memory
        args += ["--size", str(scratch_mb * 1024 * 1024)]
    args += ["--tmpfs", "/tmp"]
    if root:  # just enough to drop each student to a uid of its own and to clean up after it
        # (bwrap run by root keeps every capability unless told otherwise, CAP_SYS_ADMIN included)
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL"]
    else:
        args += ["--unshare-user"]
    seen: set[str] = set()
    for path in [*SYSTEM_PATHS, *_python_paths()]:
        if not any(path == s or path.startswith(s.rstrip("/") + "/") for s in seen):
            args += _mount_args(path)
            seen.add(path)
    args += _secret_package_masks()
    args += ["--ro-bind", str(sandbox_root), "/sandbox", "--chdir", "/tmp"]
    for key, value in _environment("/tmp").items():
        args += ["--setenv", key, value]
    return args


def _environment(tmp: str) -> dict[str, str]:
    """The student's whole environment: nothing that names the grader or its files."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": tmp,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{tmp}/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
    }


def _cgroup_parents() -> dict[str, Path]:
    """The grader's own cgroup folder for "memory" and "cpu": a v1 hierarchy each, or the one v2 folder."""
    mounts: dict[str, tuple[Path, str]] = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        if tail[0] == "cgroup2":
            mounts.setdefault("unified", (Path(fields[4]), fields[3]))
        elif tail[0] == "cgroup":
            for controller in {"memory", "cpu"} & set(tail[2].split(",")):
                mounts.setdefault(controller, (Path(fields[4]), fields[3]))
    parents: dict[str, Path] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in ({"memory", "cpu"} & set(controllers.split(","))) if controllers else {"unified"}:
            if name not in mounts:
                continue
            point, root = mounts[name]
            if path == root or path.startswith(root.rstrip("/") + "/"):
                parents[name] = point / path[len(root) :].lstrip("/")
    if "unified" in parents:  # v2 serves the controllers no v1 hierarchy has
        for name in ("memory", "cpu"):
            parents.setdefault(name, parents["unified"])
    parents.pop("unified", None)
    return parents


def _make_cgroups(memory_mb: int) -> tuple[list[Path], bool]:
    """Cgroups for one sandbox below the grader's own: memory capped at memory_mb (swap included), CPU at
    the default weight. Returns the folders to join and whether memory is capped. Best effort: a host that
    does not let us (no cgroups, not root, v2 without delegation) gets none and relies on rlimits alone."""
    try:
        parents = _cgroup_parents()
    except (OSError, ValueError):
        return [], False
    name = f"course-sandbox-{os.getpid()}-{secrets.token_hex(4)}"
    for parent in set(parents.values()):  # those of graders that died without cleaning up (kill -TERM)
        for stale in parent.glob("course-sandbox-*-*"):
            if not Path(f"/proc/{stale.name.split('-')[2]}").exists():
                _remove_cgroups([stale], patience=1)
    folders: list[Path] = []
    for folder in dict.fromkeys(parent / name for parent in parents.values()):
        try:
            folder.mkdir()
        except OSError:
            continue
        folders.append(folder)
    capped = False
    limit = str(memory_mb * 1024 * 1024)
    if "memory" in parents and parents["memory"] / name in folders:
        folder = parents["memory"] / name
        for file, value, caps in (
            ("memory.limit_in_bytes", limit, True), ("memory.memsw.limit_in_bytes", limit, False),  # v1
            ("memory.max", limit, True), ("memory.swap.max", "0", False),  # v2
        ):  # fmt: skip
            if (folder / file).exists():
                try:
                    (folder / file).write_text(value)
                    capped = capped or caps
                except OSError:
                    pass
    return folders, capped


def _remove_cgroups(folders: list[Path], patience: int = 100) -> None:
    for folder in folders:
        for _ in range(patience):  # the sandbox's processes die a moment after its bwrap parent
            try:
                folder.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)


class Sandbox:
    """One warm zygote that grades submissions one after another, each in a fresh forked process."""

    def __init__(
        self,
        require_isolation: bool = False,
        memory_mb: int = SANDBOX_MEMORY_MB,
        scratch_mb: int = SCRATCH_MB,
        course_utils: Path | None = None,
        inert_modules: tuple[str, ...] = (),
        address_space_limit: bool = True,
    ):
        """`course_utils`: the course's package the notebooks import (visible to student code, so it may
        hold no secret); `inert_modules`: its modules whose functions do nothing while grading (the
        assignment's INERT_MODULES). The assignment's helpers never come here: each graded function's
        process gets them from Submission. `address_space_limit` False (a GPU assignment, see
        Limits.address_space_limit) needs the memory cgroup's cap instead."""
        self.mode, reason = isolation()
        if self.mode == "plain":
            message = f"grading is NOT isolated: {reason}. Student code can read and write the grader's files."
            if require_isolation:
                raise IsolationRefused(message + " (isolation is required)")
            warnings.warn(message, NotIsolatedWarning, stacklevel=2)
        self._tmp = tempfile.TemporaryDirectory(prefix="course-sandbox-")
        self._root = Path(self._tmp.name) / "sandbox"
        self._root.mkdir()
        for path in INSIDE.glob("*.py"):
            if path.name != "__init__.py":
                shutil.copy2(path, self._root / path.name)
        if course_utils is not None and course_utils.is_dir():
            shutil.copytree(course_utils, self._root / "course_utils", ignore=shutil.ignore_patterns("__pycache__"))
        self._inert_modules = list(inert_modules)
        self._scratch_mb = scratch_mb
        self._cgroups, self.memory_capped = _make_cgroups(memory_mb)
        self._process: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self.last_exit: str | None = None
        try:
            self._start()
            if not address_space_limit and not self.memory_capped:
                raise SandboxError(
                    "address_space_limit = false needs a memory cgroup to cap the sandbox, and this host lets "
                    "the grader make none: student code would have no memory limit"
                )
        except BaseException:
            self.cleanup()
            raise

    # -- lifecycle --------------------------------------------------------------------------------------

    def _start(self) -> None:
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if self.mode == "plain":
            scratch = str(Path(self._tmp.name) / "scratch")
            config = {"mode": "plain", "scratch": scratch, "student_uid": None}
            argv = [sys.executable, "-E", "-s", str(self._root / "worker.py")]
            env = _environment(str(Path(self._tmp.name) / "home"))
            Path(env["HOME"]).mkdir(exist_ok=True)
            cwd = env["HOME"]
        else:
            root = self.mode == "bwrap-root"
            # A uid of its own per sandbox: RLIMIT_NPROC counts per uid, so workers cannot starve each other.
            uid = 200_000 + secrets.randbelow(800_000) if root else None
            config = {"mode": self.mode, "scratch": "/tmp/scratch", "student_uid": uid}
            bwrap = bwrap_command(self._root, root, self._scratch_mb)
            argv = [*bwrap, sys.executable, "-E", "-s", "/sandbox/worker.py"]
            env, cwd = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, None
        config["inert_modules"] = self._inert_modules
        argv += [str(theirs.fileno()), json.dumps(config)]
        if self._cgroups:  # join the cgroups before bwrap starts, so that everything it starts is inside
            join = "".join(f'echo 0 > "${i + 1}"; ' for i in range(len(self._cgroups)))
            procs = [str(folder / "cgroup.procs") for folder in self._cgroups]
            argv = ["/bin/sh", "-c", f'{{ {join}}} 2>/dev/null; shift {len(procs)}; exec "$@"', "sh", *procs, *argv]
        self._process = subprocess.Popen(
            argv, pass_fds=(theirs.fileno(),), env=env, cwd=cwd,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        theirs.close()
        self._control = control
        try:
            reply = self._receive(STARTUP_SECONDS)
        except SandboxError:
            stderr = self._process.stderr.read().decode(errors="replace")[-2000:] if self._process.stderr else ""
            self.close()
            raise SandboxError(f"the sandbox did not start: {stderr.strip() or 'no output'}") from None
        if reply.get("op") != "ready":
            raise SandboxError(f"unexpected first message from the sandbox: {reply}")
        if self._cgroups and self.memory_capped:  # the shell that joined them may have failed
            joined = Path(f"/proc/{self._process.pid}/cgroup").read_text()
            self.memory_capped = all(f"/{folder.name}\n" in joined for folder in self._cgroups)
        # stderr was only needed to explain a failed start; do not let a chatty worker fill the pipe.
        self._process.stderr.close()

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def cleanup(self) -> None:
        self.close()
        _remove_cgroups(self._cgroups)
        self._cgroups = []
        self._tmp.cleanup()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    # -- control ----------------------------------------------------------------------------------------

    def _receive(self, seconds: float) -> dict:
        assert self._control is not None
        self._control.settimeout(seconds)
        try:
            data = self._control.recv(4096)
        except (TimeoutError, OSError):
            data = b""
        if not data:
            raise SandboxError("the sandbox stopped answering")
        return json.loads(data)

    def _ensure_running(self) -> None:
        if self._process is None or self._process.poll() is not None:
            self.close()
            self._start()

    def open_session(self) -> socket.socket:
        """A fresh student process; returns the trusted end of its data connection."""
        self._ensure_running()
        ours, theirs = socket.socketpair()
        try:
            socket.send_fds(self._control, [b'{"op":"start"}'], [theirs.fileno()])
            self._receive(CONTROL_SECONDS)
        except (SandboxError, OSError):
            ours.close()
            self.close()  # the zygote is gone or wedged; the next session starts a new one
            raise SandboxError("the sandbox could not start a student process") from None
        finally:
            theirs.close()
        return ours

    def reset(self) -> None:
        """Kill the student process and everything it started, wipe scratch space. Records how the
        student process ended, if it ended on its own (e.g. "SIGXCPU", "exit 0")."""
        self.last_exit = None
        if self._process is None or self._process.poll() is not None:
            self.close()
            return
        try:
            self._control.send(b'{"op":"reset"}')
            self.last_exit = self._receive(CONTROL_SECONDS).get("child_exit")
        except (SandboxError, OSError):
            self.close()
