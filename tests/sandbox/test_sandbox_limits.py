"""Each resource limit of the sandbox, probed directly: time, CPU, memory (per process and for the whole
sandbox), processes, output, files, scratch space, IPC objects and privileges. Every test also proves that
the process, or its restart, still answers for the functions that work."""

import dataclasses
import json
import resource
import time

import numpy as np
import pytest

from autograder.course.limits import SCRATCH_MB, Limits
from autograder.grading.submission import Submission
from autograder.sandbox.launcher import Sandbox, SandboxError, isolation

MODE, WHY = isolation()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.skipif(MODE == "plain", reason=f"bubblewrap is unavailable here: {WHY}"),
]

MSE = "def mse(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).mean()\n"
FAST = Limits(cell_seconds=2.0, call_seconds=2.0, submission_seconds=60)


def start(sandbox, cells, limits=FAST) -> Submission:
    return Submission(cells, sandbox, limits)


def mse_works(submission) -> bool:
    result = submission.call("mse", np.array([1.0, 3.0], np.float32), np.zeros(2, np.float32))
    return result.ok and result.value.array == pytest.approx(5.0)


def plain(decoded):
    return [plain(item) for item in decoded.items] if decoded.kind in ("list", "tuple") else decoded.value


def value(result):
    assert result.ok, result.error
    return plain(result.value)


# -- time --------------------------------------------------------------------------------------------------


def test_infinite_loops_in_a_cell_and_in_a_call_are_timeouts(sandbox):
    submission = start(sandbox, ["while True:\n    pass", MSE, "def train(*args):\n    while True:\n        pass"])
    try:
        started = time.monotonic()
        result = submission.call("train")
        assert not result.ok and result.error.type == "Timeout"
        assert mse_works(submission)
        assert submission.cell_reports[0].status == "timeout"
        assert time.monotonic() - started < FAST.cell_seconds + FAST.call_seconds + 3
    finally:
        submission.close()


TRICKLE = """
import signal, socket, struct, time
signal.signal(signal.SIGALRM, signal.SIG_IGN)  # no cell timeout
_data = socket.socket(fileno=3)  # the worker's connection to the grader
_data.sendall(struct.pack(">I", 100_000))  # announce a long message, then send it a byte at a time
while True:
    time.sleep(0.3)
    _data.sendall(b" ")
"""


def test_a_process_that_trickles_into_its_socket_is_ended_after_the_submission_budget(sandbox):
    """Every read gets a byte before its timeout, so only the zygote's own deadline stops this one."""
    limits = Limits(cell_seconds=1, call_seconds=1, submission_seconds=2)
    submission = start(sandbox, [TRICKLE, MSE], limits)
    try:
        started = time.monotonic()
        result = submission.call("mse", 1.0, 2.0)
        assert time.monotonic() - started < limits.submission_seconds + 10
        assert not result.ok and "time budget" in result.error.message
        assert any("stopped responding" in event for event in submission.events)
    finally:
        submission.close()


def test_cpu_time_limit_kills_and_the_restart_still_answers(sandbox):
    limits = Limits(cpu_seconds=1, call_seconds=20, submission_seconds=60)
    spin = "def train(*args):\n    while True:\n        pass"
    submission = start(sandbox, [MSE, spin], limits)
    try:
        started = time.monotonic()
        result = submission.call("train")
        assert time.monotonic() - started < 10  # the CPU limit, not the 20 s alarm
        assert not result.ok and result.error.type == "Crashed" and "CPU time" in result.error.message
        assert mse_works(submission)
    finally:
        submission.close()


# -- memory ------------------------------------------------------------------------------------------------

MEMORY_HOG = """
import torch
try:
    big = torch.ones(3 * 2**30)  # 12 GiB of float32
except RuntimeError as exc:
    failed = type(exc).__name__
chunks = []
try:
    for _ in range(12):
        chunk = bytearray(2**30)
        chunk[::4096] = b"x" * len(range(0, 2**30, 4096))  # touch every page
        chunks.append(chunk)
finally:
    touched = len(chunks)
    chunks.clear()
"""


def test_twelve_gigabytes_do_not_fit(sandbox):
    limits = Limits(cell_seconds=30, call_seconds=5, submission_seconds=60)
    submission = start(sandbox, [MEMORY_HOG, MSE, "def train():\n    return [failed, touched]"], limits)
    try:
        failed, touched = value(submission.call("train"))
        assert failed == "RuntimeError"  # torch could not allocate 12 GiB
        assert touched <= Limits().memory_mb // 1024  # and the bytearrays stopped at the limit
        assert submission.cell_reports[0].status == "error" and "MemoryError" in submission.cell_reports[0].error
        assert mse_works(submission)
    finally:
        submission.close()


FORK_MEMORY = """
import os, time

def hog(n, mb):
    children = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            block = bytearray(mb << 20)
            block[::4096] = b"x" * len(range(0, mb << 20, 4096))
            time.sleep(60)
            os._exit(0)
        children.append(pid)
    time.sleep(3)
    return sum(os.waitpid(pid, os.WNOHANG)[0] == 0 for pid in children)  # still alive
"""


def test_forked_processes_share_one_memory_cap():
    """RLIMIT_AS is per process; the sandbox's memory cgroup caps the sum: 6 x 700 MB do not fit in 1.5 GB."""
    with Sandbox(memory_mb=1536) as small:
        if not small.memory_capped:
            pytest.skip("this host does not let the grader make a memory cgroup")
        submission = start(small, [FORK_MEMORY, MSE], Limits(call_seconds=30, submission_seconds=60))
        try:
            alive = value(submission.call("hog", 6, 700))
            assert alive <= 2
            assert mse_works(submission)  # the OOM killer took the hogs, not the process that answers
        finally:
            submission.close()


SCRATCH = """
import os

def fill():
    written = 0
    try:
        for i in range(10_000):
            with open(f"fill-{i}", "wb") as handle:
                handle.write(b"x" * (8 << 20))
            written += 8
    except OSError as exc:
        return [written, exc.strerror]
    return [written, "no error"]

def big_file():
    try:
        with open("big", "wb") as handle:
            handle.write(b"x" * (17 << 20))
    except OSError as exc:
        return exc.strerror
    return "written"

def listing():
    return [os.getcwd(), sorted(os.listdir("/tmp/scratch")), sorted(os.listdir("."))]

def lock_away():
    os.makedirs("/tmp/scratch/kept/inner")
    with open("/tmp/scratch/kept/inner/answers.txt", "w") as handle:
        handle.write("for the next student")
    os.chmod("/tmp/scratch/kept/inner", 0o555)  # its file cannot be unlinked
    os.chmod("/tmp/scratch/kept", 0)  # nor can the folder be read
"""


def test_scratch_space_is_small_and_wiped_between_submissions(sandbox):
    submission = start(sandbox, [SCRATCH])
    try:
        value(submission.call("lock_away"))
        assert value(submission.call("big_file")) == "File too large"  # RLIMIT_FSIZE, 16 MB
        written, error = value(submission.call("fill"))
        assert written <= SCRATCH_MB and error == "No space left on device"
        first_cwd = value(submission.call("listing"))[0]
    finally:
        submission.close()
    submission = start(sandbox, [SCRATCH])
    try:
        cwd, scratch, here = value(submission.call("listing"))
        work = [name for name in scratch if not name.startswith("cells-")]  # beside the copy forks start from
        assert work == [cwd.rsplit("/", 1)[1]] and here == [] and first_cwd not in scratch
    finally:
        submission.close()


IPC = """
import ctypes, ctypes.util, os

libc = ctypes.CDLL(None, use_errno=True)

def ipc():
    results = {}
    for name, call in (
        ("shmget", lambda: libc.shmget(0, 1 << 20, 0o1000 | 0o600)),
        ("msgget", lambda: libc.msgget(0, 0o1000 | 0o600)),
        ("semget", lambda: libc.semget(0, 1, 0o1000 | 0o600)),
    ):
        results[name] = call()
    rt = ctypes.CDLL(ctypes.util.find_library("rt") or None, use_errno=True)
    results["mq_open"] = rt.mq_open(b"/student", os.O_CREAT | os.O_RDWR, 0o600, None)
    return [results["shmget"], results["msgget"], results["semget"], results["mq_open"]]
"""


def test_no_ipc_objects_that_would_outlive_the_student(sandbox):
    """SysV shared memory escapes RLIMIT_AS once detached, and every IPC object outlives its process."""
    submission = start(sandbox, [IPC])
    try:
        assert value(submission.call("ipc")) == [-1, -1, -1, -1]
    finally:
        submission.close()


# -- processes ---------------------------------------------------------------------------------------------

FORK_BOMB = """
import os, time
forked = 0
for _ in range(300):
    if os.fork() == 0:
        time.sleep(3600)
        os._exit(0)
    forked += 1
"""


def test_fork_bomb_stops_at_the_process_limit_and_is_killed_at_reset(sandbox):
    submission = start(sandbox, [FORK_BOMB, MSE, "def train():\n    return forked"])
    try:
        forked = value(submission.call("train"))
        assert 0 < forked < FAST.processes
        assert submission.cell_reports[0].status == "error" and "BlockingIOError" in submission.cell_reports[0].error
        assert mse_works(submission)
    finally:
        submission.close()
    pids = "import os\ndef train():\n    return sorted(int(p) for p in os.listdir('/proc') if p.isdigit())"
    submission = start(sandbox, [pids])
    try:
        assert len(value(submission.call("train"))) == 4  # the sandbox's init, the zygote, the notebook, this fork
    finally:
        submission.close()


def test_open_files_limit(sandbox):
    code = "def train():\n    files = []\n    try:\n        while True:\n            files.append(open('/dev/null'))\n"
    code += "    except OSError:\n        return len(files)"
    submission = start(sandbox, [code])
    try:
        assert value(submission.call("train")) < 256
    finally:
        submission.close()


SPIN = """
import os

def spin(n):
    for _ in range(n):
        if os.fork() == 0:
            os.setsid()  # a session (and so a scheduler autogroup) of its own
            while True:
                pass
    return n
"""
WORK = """
import time

def work():
    cpu, wall = time.process_time(), time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return [time.process_time() - cpu, time.perf_counter() - wall]
"""


def test_a_sandbox_full_of_spinning_processes_gets_one_fair_share_of_cpu(sandbox):
    """Without a CPU cgroup per sandbox, 40 spinning processes in one sandbox slowed another's calls ~20x."""
    if not sandbox._cgroups:
        pytest.skip("this host does not let the grader make cgroups")
    with Sandbox() as other:
        spinner, worker = start(other, [SPIN], Limits(call_seconds=10)), start(sandbox, [WORK], Limits(call_seconds=10))
        try:
            value(worker.call("work"))  # warm
            assert value(spinner.call("spin", 40)) == 40
            time.sleep(0.5)
            ratios = []
            for _ in range(3):
                cpu, wall = value(worker.call("work"))
                ratios.append(wall / cpu)
            assert min(ratios) < 5, ratios
        finally:
            spinner.close()
            worker.close()


# -- output ------------------------------------------------------------------------------------------------


def test_two_hundred_megabytes_of_output_are_capped(sandbox):
    flood = "for _ in range(200):\n    print('x' * 1_000_000)"
    train = (
        "import sys\ndef train():\n    for _ in range(200):\n        sys.stdout.write('y' * 1_000_000)\n    return 1"
    )
    submission = start(sandbox, [flood, MSE, train], Limits(call_seconds=20, cell_seconds=20))
    try:
        result = submission.call("train")
        assert result.ok and len(result.output) < FAST.output_chars + 200 and "dropped" in result.output
        assert mse_works(submission)
    finally:
        submission.close()


# -- privileges --------------------------------------------------------------------------------------------

PRIVILEGES = """
import json, os

def status(pid):
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines())
    return {key: fields[key].strip() for key in ("CapEff", "CapPrm", "CapAmb", "NoNewPrivs", "Uid")}

def privileges():
    signals = []
    for pid in (int(open(f"/proc/{os.getppid()}/stat").read().rpartition(")")[2].split()[1]), 1):
        try:
            os.kill(pid, 0)
            signals.append("allowed")
        except PermissionError:
            signals.append("denied")
    notebook = os.getppid()  # this function's process is a fork of the notebook's, itself the zygote's child
    zygote = int(open(f"/proc/{notebook}/stat").read().rpartition(")")[2].split()[1])
    return json.dumps([status("self"), status(zygote), signals, os.getuid()])
"""


@pytest.mark.skipif(MODE != "bwrap-root", reason=f"the zygote drops to a student uid only as root (mode {MODE})")
def test_student_is_unprivileged_and_the_zygote_keeps_three_capabilities(sandbox):
    submission = start(sandbox, [PRIVILEGES])
    try:
        mine, zygote, signals, uid = json.loads(value(submission.call("privileges")))
        assert uid != 0 and mine["Uid"].split()[0] == str(uid)
        assert mine["CapEff"] == mine["CapPrm"] == mine["CapAmb"] == "0000000000000000"
        assert mine["NoNewPrivs"] == "1"
        caps = int(zygote["CapEff"], 16)
        assert caps == (1 << 5) | (1 << 6) | (1 << 7), hex(caps)  # CAP_KILL, CAP_SETGID, CAP_SETUID only
        assert signals == ["denied", "denied"]
    finally:
        submission.close()


ADDRESS_SPACE = """
import resource

def address_space():
    return list(resource.getrlimit(resource.RLIMIT_AS))
"""


def test_a_gpu_assignment_drops_the_address_space_limit_for_the_cgroup_cap():
    """CUDA maps far more virtual memory than it uses: with address_space_limit = false the student's process
    has no RLIMIT_AS, and only a sandbox whose memory cgroup is capped may run without one."""
    unlimited = resource.RLIM_INFINITY
    with Sandbox() as sandbox:
        submission = start(sandbox, [ADDRESS_SPACE])
        try:
            assert value(submission.call("address_space"))[0] != unlimited  # the default keeps RLIMIT_AS
        finally:
            submission.close()
        if not sandbox.memory_capped:
            with pytest.raises(SandboxError, match="needs a memory cgroup"):
                Sandbox(address_space_limit=False)
            return
    with Sandbox(address_space_limit=False) as sandbox:
        submission = start(sandbox, [ADDRESS_SPACE], dataclasses.replace(FAST, address_space_limit=False))
        try:
            assert value(submission.call("address_space")) == [unlimited, unlimited]
        finally:
            submission.close()
