"""`course gradescope ASSIGNMENT`: a Gradescope autograder (autograder.zip) that grades with the kit's own
hidden tests, reference, sandbox and limits, and the runner it calls (`python -m autograder.lms.gradescope`).

The zip holds, at its root as Gradescope requires, `setup.sh` (run once on Gradescope's Ubuntu image: the
pinned grading environment, torch's CPU build, bubblewrap) and `run_autograder` (run per submission), plus
the kit's engine in `kit/` and the assignment as a bundle (`course.tar`, see grading/bundle.py).
`AUTOGRADER_ROOT` replaces /autograder for a local run.

The runner never crashes, since Gradescope shows "autograder failed" for that: a missing, doubled or
unreadable notebook, or an error of the grader itself, becomes a results.json with score 0 and the reason.
Its results.json follows Gradescope's schema; the kit's own extra data (seeds, evidence, events) stays out,
and so does any hidden-test or reference code, as in course grade's results.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from autograder.course import Assignment
from autograder.grading.bundle import bundle, unpack
from autograder.grading.engine import Grader, not_graded
from autograder.grading.jobs import refusal
from autograder.sandbox.launcher import IsolationRefused, isolation

# What the instructor reads in Gradescope's autograder output (students never see stdout: it is hidden).
log = logging.getLogger(__name__)

VISIBILITIES = ("visible", "after_published", "after_due_date", "hidden")
ENGINE = Path(__file__).resolve().parents[1]  # the autograder package
KIT = ENGINE.parent  # its repository: pyproject.toml, constraints.txt, course_utils
UNAVAILABLE = (
    "grading is unavailable on this machine: student code cannot be isolated here, and this assignment is only "
    "graded in isolation. This is not a problem with your code; your instructor has been told"
)
INTERNAL = "the autograder could not grade this submission (an error of the grader, not of your code)"

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu base image: the kit's pinned grading environment.
set -euo pipefail
cd /autograder/source
apt-get update
apt-get install -y --no-install-recommends bubblewrap software-properties-common
if ! command -v python3.11 >/dev/null; then
  add-apt-repository -y ppa:deadsnakes/ppa && apt-get update
  apt-get install -y --no-install-recommends python3.11 python3.11-venv
fi
python3.11 -m venv /autograder/venv
# torch's CPU build: the default index would bring a multi-gigabyte CUDA build.
/autograder/venv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -c kit/constraints.txt ./kit
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission; AUTOGRADER_ROOT replaces /autograder for a local run.
root="${AUTOGRADER_ROOT:-/autograder}"
python="$root/venv/bin/python"
[ -x "$python" ] || python=python3
exec "$python" -m autograder.lms.gradescope "$root"
"""


# -- building the zip (instructor's side) ----------------------------------------------------------------


def _kit_files() -> dict[str, Path]:
    """The engine's source as `kit/...`: the package without any course's hidden tests, and what installs it."""
    files = {}
    for name in ("pyproject.toml", "constraints.txt", "README.md"):
        if not (KIT / name).is_file():
            raise FileNotFoundError(f"the kit's {name} is not beside the installed package ({KIT})")
        files[f"kit/{name}"] = KIT / name
    for package in ("autograder", "course_utils"):
        for path in sorted((KIT / package).rglob("*")):
            relative = path.relative_to(KIT)
            if path.is_file() and "__pycache__" not in relative.parts and relative.parts[:2] != (
                "autograder", "hidden_tests"
            ):  # fmt: skip
                files[f"kit/{relative.as_posix()}"] = path
    return files


def build_autograder(assignment: Assignment, visibility: str = "visible") -> Path:
    """Write `gradescope/<assignment>/autograder.zip` in the course and return its path."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}")
    out = assignment.course.root / "gradescope" / assignment.name / "autograder.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    config = {"assignment": assignment.name, "visibility": visibility}
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them
            archive.writestr(info, text)
        archive.writestr("config.json", json.dumps(config, indent=1))
        archive.writestr("course.tar", bundle(assignment))
        for name, path in _kit_files().items():
            archive.write(path, name)
    os.replace(tmp, out)
    return out


# -- running it (inside Gradescope's container) ----------------------------------------------------------


def find_notebook(submission: Path) -> tuple[Path, str | None]:
    """The submitted notebook, or a path that does not exist and the reason there is none to grade."""
    found = sorted(p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    missing = submission / "missing.ipynb"
    if not found:
        return missing, "no notebook (.ipynb) was submitted"
    if len(found) > 1:
        names = ", ".join(p.relative_to(submission).as_posix() for p in found[:5])
        return missing, f"{len(found)} notebooks were submitted ({names}): submit exactly one"
    return found[0], refusal(found[0], submission)


def _not_graded(reason: str, started: float) -> dict:
    return {"score": 0.0, "execution_time": round(time.perf_counter() - started, 3),
            "output": f"This submission could not be graded: {reason}.", "stdout_visibility": "hidden",
            "tests": []}  # fmt: skip


def grade_submission(root: Path, work: Path) -> dict:
    """Grade the notebook in ROOT/submission with the bundled assignment; Gradescope's results."""
    config = json.loads((root / "source" / "config.json").read_text())
    visibility = config.get("visibility", "visible")
    data = (root / "source" / "course.tar").read_bytes()
    assignment = unpack(data, work / "course", config["assignment"])
    notebook, problem = find_notebook(root / "submission")
    mode, reason = isolation()
    if mode == "plain":
        log.warning("instructor note: bubblewrap cannot isolate student code here (%s).", reason)
    if problem is not None:
        return not_graded(assignment, notebook, problem).to_gradescope(visibility)
    try:
        grader = Grader(assignment)
    except IsolationRefused:
        log.warning("instructor note: limits.toml says require_isolation = true: nothing was graded.")
        return not_graded(assignment, notebook, UNAVAILABLE).to_gradescope(visibility)
    if mode == "plain":
        log.warning("instructor note: grading in a plain subprocess with rlimits only: NOT isolated.")
    with grader:
        return grader.grade(notebook).to_gradescope(visibility)


def run(root: Path) -> dict:
    """Write ROOT/results/results.json, whatever happens; returns what it wrote."""
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="course-gradescope-"))
    try:
        results = grade_submission(root, work)
    except Exception:
        log.error("instructor note: the grader failed:\n%s", traceback.format_exc())
        results = _not_graded(INTERNAL, started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    sys.modules.setdefault("rfc3987_syntax", None)  # see cli.main: a grammar no notebook schema needs
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    results = run(root)
    print(f"graded: {results['score']:g} points, {len(results['tests'])} tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
