"""The grader cannot be fooled: every trick in tests/redteam.py, graded in one batch with an honest
submission, earns nothing for the function it cheats on, leaves no file anywhere, opens no connection, and
the batch goes on with every other function (and the honest submission) graded correctly.

Also: what the student's code can see from inside the sandbox (environment, grader files, its uid), the
fallback without bubblewrap, and holes once open on the trusted side (forged protocol messages, notebooks
that break the JSON parser).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import socket
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from autograder.authoring.check import catalogue, samples
from autograder.course.limits import Limits
from autograder.grading.submission import Submission
from autograder.sandbox.launcher import NotIsolatedWarning, Sandbox, SandboxError, isolation
from tests.support import ROOT
from tests.support.redteam import ALL, CONTROL, GRADED, Trick, fill

MODE, WHY = isolation()
needs_bwrap = pytest.mark.skipif(MODE == "plain", reason=f"bubblewrap is unavailable here: {WHY}")
pytestmark = [pytest.mark.slow]

HONEST = Trick("honest_reference", "the reference solution, untouched")
PLANTED_NAMES = ("conftest.py", "pytest.ini", "sitecustomize.py", "usercustomize.py", "results.json", "grades.csv")
MSE = "def mse(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).mean()\n"


# -- building the submissions ------------------------------------------------------------------------------


def build(line_fit, release: Path, trick: Trick, filled, out: Path) -> Path:
    """The release notebook with the trick's code and the reference code for every other function (as the
    catalogue builds submissions), then the trick's extra cells and forged metadata."""
    reference = samples.reference_sources(line_fit)
    sources = {**reference, **{name: filled(code) for name, code in trick.functions.items()}}
    notebook = json.loads(catalogue.build(release, sources, out).read_text())
    cells = []
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if trick.notebook_metadata and meta:
            meta.update(trick.notebook_metadata)
            if cell["cell_type"] == "code" and "check(" in "".join(cell["source"]):
                cell["execution_count"] = 1
                text = f"{meta.get('grade_id')}: 99/99 public tests passed\nALL TESTS PASSED: 1000/1000 points\n"
                cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": text}]
        cells.append(cell)
        if meta.get("grade_id") == trick.after:
            for index, code in enumerate(trick.cells):
                cells.append(
                    {"cell_type": "code", "execution_count": None, "id": f"redteam-{trick.name[:20]}-{index}",
                     "metadata": {}, "outputs": [], "source": filled(code)}
                )  # fmt: skip
    notebook["cells"] = cells
    out.write_text(json.dumps(notebook, indent=1))
    return out


# -- watching for leaks --------------------------------------------------------------------------------------


class Listener:
    """A loopback TCP port in this (trusted) process; records anything that connects."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.arrived: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            with connection:
                connection.settimeout(1)
                try:
                    self.arrived.append(connection.recv(1000) or b"(connected)")
                except OSError:
                    self.arrived.append(b"(connected)")

    def close(self):
        self._stop.set()
        self._thread.join()
        self.server.close()


def leaked_files(marker: str, roots: list[Path]) -> list[Path]:
    """Files under roots that a trick wrote: the marker in their name, or a planted name with the marker inside."""
    found = []
    for root in roots:
        for base, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in (".git",) and not d.startswith("bash_")]
            for name in files:
                path = Path(base) / name
                if marker in name:
                    found.append(path)
                elif name in PLANTED_NAMES or name.endswith(".db"):
                    try:
                        if path.stat().st_size < 50_000_000 and marker.encode() in path.read_bytes():
                            found.append(path)
                    except OSError:
                        pass
    return found


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def per_function(results: dict) -> dict[str, tuple[float, float]]:
    scores: dict[str, list[float]] = {}
    for test in results["tests"]:
        for tag in test["tags"]:
            earned, possible = scores.setdefault(tag, [0.0, 0.0])
            scores[tag] = [earned + test["score"], possible + test["max_score"]]
    return {function: (earned, possible) for function, (earned, possible) in scores.items()}


def test_the_leak_detectors_see_what_they_should(tmp_path):
    marker = f"REDTEAM{secrets.token_hex(8)}"
    (tmp_path / "a").mkdir()
    planted = [tmp_path / "a" / "conftest.py", tmp_path / f"{marker}.txt", tmp_path / "gradebook.db"]
    planted[0].write_text(f"# {marker}")
    planted[1].write_text("")
    planted[2].write_bytes(b"SQLite" + marker.encode())
    (tmp_path / "conftest.py").write_text("# someone else's")
    assert sorted(leaked_files(marker, [tmp_path])) == sorted(planted)
    listener = Listener()
    with socket.create_connection(("127.0.0.1", listener.port)) as connection:
        connection.sendall(marker.encode())
    time.sleep(0.5)
    listener.close()
    assert listener.arrived == [marker.encode()]


# -- the batch -----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Batch:
    results: dict[str, dict]
    out: Path
    submissions: Path
    submissions_before: dict[str, str]
    gradebook: Path
    gradebook_before: str
    leaks: list[Path]
    arrived: list[bytes]
    seconds: float


@pytest.fixture(scope="module")
def batch(tmp_path_factory, make_course) -> Batch:
    if MODE == "plain":
        pytest.skip(f"bubblewrap is unavailable here: {WHY}")
    from autograder.authoring.release import release
    from autograder.grading.batch import grade_folder

    made = make_course("redteam")
    course = made.root
    released = release(made, "line_fit") / "line_fit.ipynb"
    gradebook = course / "gradebook.db"
    if not gradebook.exists():  # nbgrader normally makes it; the tricks need one to aim at either way
        gradebook.write_bytes(b"SQLite format 3\x00" + bytes(100))

    submissions, out = tmp_path_factory.mktemp("submissions"), tmp_path_factory.mktemp("out")
    marker = f"REDTEAM{secrets.token_hex(8)}"
    listener = Listener()
    targets = [str(p) for p in (ROOT, ROOT / "solutions", ROOT / "autograder" / "hidden_tests", ROOT / "autograder",
                                course, gradebook, submissions, out, Path.home())]  # fmt: skip

    def filled(code: str) -> str:
        return fill(code, marker, listener.port, targets)

    for trick in (HONEST, CONTROL, *ALL):
        build(made.assignment("line_fit"), released, trick, filled, submissions / f"{trick.name}.ipynb")
    submissions_before, gradebook_before = tree_digest(submissions), digest(gradebook)

    started = time.monotonic()
    try:
        graded = grade_folder(made.assignment("line_fit"), submissions, out, workers=2, require_isolation=True)
        results = {name: result.data for name, result in graded.items()}
    finally:
        seconds = time.monotonic() - started
        time.sleep(0.5)  # anything still trying to connect has had its chance
        listener.close()
    roots = [ROOT, course, submissions, out, Path(tempfile.gettempdir()), Path.home()]
    leaks = leaked_files(marker, list(dict.fromkeys(roots)))
    for path in leaks:  # report them below, but do not leave them lying around
        path.unlink(missing_ok=True)
    timings = sorted(((r["execution_time"], name) for name, r in results.items()), reverse=True)
    print(f"\nred-team batch: {seconds:.1f} s; slowest: {timings[:8]}", file=sys.stderr)
    return Batch(results, out, submissions, submissions_before, gradebook, gradebook_before, leaks,
                 listener.arrived, seconds)  # fmt: skip


def test_the_honest_submission_gets_full_marks(batch):
    honest = batch.results[HONEST.name]
    assert honest["score"] == honest["max_score"] > 0, honest["output"]
    assert set(per_function(honest)) == set(GRADED)


def passed(results: dict, function: str) -> set[str]:
    return {t["name"] for t in results["tests"] if function in t["tags"] and t["status"] == "passed"}


@pytest.mark.parametrize("trick", [t for t in ALL if t.cheats_on], ids=lambda trick: trick.name)
def test_no_credit_for_the_cheat(batch, trick):
    """Every hidden test of the function cheated on fails, except those a plainly wrong answer passes too."""
    results, control = batch.results[trick.name], batch.results[CONTROL.name]
    assert results["max_score"] == batch.results[HONEST.name]["max_score"]  # nothing the notebook says changes it
    for function in trick.cheats_on:
        earned, possible = per_function(results)[function]
        gained = passed(results, function) - passed(control, function)
        assert not gained, f"{trick.name}: {function} passed {gained}\n{results['output']}"
        assert earned <= per_function(control)[function][0] and earned < possible


@pytest.mark.parametrize("trick", ALL, ids=lambda trick: trick.name)
def test_full_marks_for_everything_else(batch, trick):
    results = batch.results[trick.name]
    scores = per_function(results)
    for function in trick.must_survive:
        earned, possible = scores[function]
        failures = [t["output"] for t in results["tests"] if function in t["tags"] and t["status"] == "failed"]
        assert earned == possible, f"{trick.name}: {function} lost points: {failures}\n{results['output']}"


def test_the_control_is_wrong_everywhere(batch):
    control = batch.results[CONTROL.name]
    for function, (earned, possible) in per_function(control).items():
        assert earned < possible / 2, (function, earned, possible)


def test_results_stay_small(batch):
    for student in batch.results:
        size = (batch.out / student / "results.json").stat().st_size
        assert size < 200_000, f"{student}: results.json is {size} bytes"


def test_limits_and_exits_are_reported(batch):
    summary = {name: batch.results[name]["output"] for name in batch.results}
    assert "did not run cleanly" in summary["loop_in_cell"] and "Timeout" in summary["loop_in_cell"]
    assert "ended the process itself" in summary["os_exit_in_cell"]
    assert "MemoryError" in summary["memory_hog"] or "Timeout" in summary["memory_hog"]
    assert "BlockingIOError" in summary["fork_bomb"]
    assert batch.results["loop_in_train"]["extra_data"]["hit_limit"]


def test_no_file_written_outside_the_sandbox(batch):
    assert batch.leaks == [], f"files written by student code: {batch.leaks}"


def test_output_folder_holds_only_the_graders_files(batch):
    expected = {"grades.csv"} | {f"{student}/results.json" for student in batch.results}
    found = {str(p.relative_to(batch.out)) for p in batch.out.rglob("*") if p.is_file()}
    assert found == expected
    for student in batch.results:
        results = json.loads((batch.out / student / "results.json").read_text())
        assert results["max_score"] == batch.results[HONEST.name]["max_score"]


def test_submissions_and_gradebook_untouched(batch):
    assert tree_digest(batch.submissions) == batch.submissions_before
    assert digest(batch.gradebook) == batch.gradebook_before


def test_no_connection_left_the_sandbox(batch):
    assert batch.arrived == []


def test_the_batch_took_a_sane_time(batch):
    assert batch.seconds < 600


# -- what the student's code sees ------------------------------------------------------------------------------

PROBE = """
import os, sys

def environment():
    return "\\n".join(f"{key}={value}" for key, value in sorted(os.environ.items()))

def visible(paths):
    return [os.path.exists(path) for path in paths]

def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return [type(exc).__name__]

def importable(names):
    found = []
    for name in names:
        try:
            __import__(name)
            found.append(name)
        except Exception:
            pass
    return found

def uid():
    return [os.getuid(), os.geteuid(), os.getgid()]
"""
ALLOWED_ENVIRONMENT = {
    "PATH", "HOME", "TMPDIR", "LANG", "MPLBACKEND", "MPLCONFIGDIR", "PYTHONDONTWRITEBYTECODE", "OMP_NUM_THREADS", "PWD",
}  # fmt: skip


@pytest.fixture(scope="module")
def probe():
    if MODE == "plain":
        pytest.skip(f"bubblewrap is unavailable here: {WHY}")
    with Sandbox(require_isolation=True) as sandbox:
        submission = Submission([PROBE], sandbox, Limits(call_seconds=5))
        yield submission
        submission.close()


def answer(result):
    assert result.ok, result.error
    if result.value.kind in ("list", "tuple"):
        return [item.value for item in result.value.items]
    return result.value.value


@needs_bwrap
def test_environment_names_nothing_of_the_grader(probe, tmp_path):
    text = answer(probe.call("environment"))
    variables = dict(line.split("=", 1) for line in text.splitlines())
    assert set(variables) <= ALLOWED_ENVIRONMENT, set(variables) - ALLOWED_ENVIRONMENT
    for value in variables.values():
        for secret in (str(ROOT), "autograder", "solutions", "hidden", "grade", "course-sandbox", str(tmp_path)):
            assert secret not in value, (secret, value)


@needs_bwrap
def test_grader_files_are_invisible(probe, tmp_path_factory):
    out, submissions = tmp_path_factory.mktemp("out"), tmp_path_factory.mktemp("submitted")
    (submissions / "alice.ipynb").write_text("{}")
    secrets_ = [ROOT / "solutions", ROOT / "autograder", ROOT / "autograder" / "hidden_tests", ROOT / "assignments",
                ROOT / "tests", ROOT / "nbgrader_config.py", out, submissions, submissions / "alice.ipynb"]  # fmt: skip
    assert answer(probe.call("visible", [str(p) for p in secrets_])) == [False] * len(secrets_)
    assert set(answer(probe.call("listing", str(ROOT)))) <= {".venv", "FileNotFoundError"}  # the venv, read-only
    assert answer(probe.call("importable", ["solutions", "autograder", "solutions.line_fit"])) == []


@needs_bwrap
def test_student_is_not_root(probe):
    uid, euid, gid = answer(probe.call("uid"))
    assert uid != 0 and euid != 0 and gid != 0


# -- without bubblewrap ----------------------------------------------------------------------------------------


def test_without_bubblewrap_it_warns_and_still_grades(without_bwrap):
    assert isolation() == ("plain", "bubblewrap (bwrap) is not installed")
    with pytest.warns(NotIsolatedWarning, match="NOT isolated"):
        sandbox = Sandbox()
    try:
        assert sandbox.mode == "plain"
        submission = Submission([MSE], sandbox, Limits(call_seconds=5))
        result = submission.call("mse", np.array([1.0, 3.0], np.float32), np.zeros(2, np.float32))
        submission.close()
        assert result.ok and result.value.array == pytest.approx(5.0)
    finally:
        sandbox.cleanup()


def test_without_bubblewrap_require_isolation_is_an_error(without_bwrap, line_fit, tmp_path):
    from autograder.grading.batch import grade_folder

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it must refuse before warning about (or doing) anything
        with pytest.raises(SandboxError, match="not installed"):
            Sandbox(require_isolation=True)
    (tmp_path / "alice.ipynb").write_text("{}")
    with pytest.raises(SandboxError, match="not installed"):
        grade_folder(line_fit, tmp_path, tmp_path / "out", workers=1, require_isolation=True)
    assert not (tmp_path / "out").exists()


# -- holes once open on the trusted side ---------------------------------------------------------------------

FORGE = """
import json, socket, struct

_data = socket.socket(fileno=3)  # the worker's connection to the grader, inherited by student code
_body = json.dumps({"op": "cell", "index": 999, "status": "error",
                    "error": {"type": "Error", "message": "m" * 30_000_000, "where": None}}).encode()
_data.sendall(struct.pack(">I", len(_body)) + _body)
"""


@needs_bwrap
def test_forged_messages_cannot_bloat_the_results(line_fit, release_notebook, sandbox, tmp_path):
    from autograder.grading.engine import grade_notebook

    forger = Trick("forger", "forges protocol messages", cells=(FORGE,))
    notebook = build(line_fit, release_notebook, forger, str, tmp_path / "forger.ipynb")
    results = grade_notebook(line_fit, notebook, sandbox).data
    assert results["score"] == results["max_score"]  # the forgery earns nothing and costs nothing
    assert len(json.dumps(results)) < 200_000


@pytest.mark.parametrize(
    "text",
    [
        '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}",  # RecursionError in json.loads
        '{"cells": [], "metadata": {"n": ' + "1" * 5000 + "}}",  # ValueError: int too long to convert
    ],
    ids=["deeply-nested", "huge-integer"],
)
def test_a_notebook_that_breaks_the_json_parser_is_only_unreadable(tmp_path, text):
    from autograder.grading.notebook import NotebookError, code_cells

    path = tmp_path / "evil.ipynb"
    path.write_text(text)
    with pytest.raises(NotebookError):
        code_cells(path)
