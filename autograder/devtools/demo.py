"""`course demo`: the whole pipeline on a throwaway course and a synthetic class of about 20 students.

A new course with the line_fit example (as `course init --example line_fit` makes it), its release with
nbgrader, a class of submissions (correct ones, typical mistakes, one cheat, one that crashes, one corrupt
file) as a flat LMS download, grading into the gradebook, feedback pages, the class report, the grade table.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from autograder.authoring.check import samples
from autograder.authoring.release import release
from autograder.authoring.scaffold import init_course
from autograder.course import Assignment, Course, CourseError
from autograder.gradebook.records import Recorder

ASSIGNMENT = "line_fit"
DEMO_MARK = ".course-demo"

# Typical mistakes, each in one function: what the hidden tests exist to catch.
MISTAKES = {
    "mse_sums": {
        "mse": "def mse(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).sum()\n",
    },
    "mse_item": {
        "mse": "def mse(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).mean().item()\n",
    },
    "sgd_no_no_grad": {
        "sgd_step": "def sgd_step(params, lr):\n    for p in params:\n        if p.grad is not None:\n"
        "            p -= lr * p.grad\n",
    },
    "sgd_zeroes_grad": {
        "sgd_step": "import torch\n\ndef sgd_step(params, lr):\n    with torch.no_grad():\n        for p in params:\n"
        "            if p.grad is not None:\n                p -= lr * p.grad\n                p.grad.zero_()\n",
    },
    "train_no_zero_grad": {
        "train": "def train(model, x, y, n_steps, lr):\n    losses = []\n    for _ in range(n_steps):\n"
        "        loss = mse(model(x), y)\n        losses.append(loss.item())\n        loss.backward()\n"
        "        sgd_step(model.parameters(), lr)\n    return losses\n",
    },
    "train_loss_after_step": {
        "train": "def train(model, x, y, n_steps, lr):\n    losses = []\n    for _ in range(n_steps):\n"
        "        loss = mse(model(x), y)\n        model.zero_grad()\n        loss.backward()\n"
        "        sgd_step(model.parameters(), lr)\n        losses.append(mse(model(x), y).item())\n    return losses\n",
    },
    "landscape_swapped": {
        "loss_landscape": "def loss_landscape(x, y, a_grid, b_grid):\n"
        "    pred = b_grid.unsqueeze(-1) * x + a_grid.unsqueeze(-1)\n    return ((pred - y) ** 2).mean(dim=-1)\n",
    },
    "gradients_hardcoded": {
        "gradients": "def gradients(f, *inputs):\n    a, b = inputs\n    return 9 * a.detach() ** 2, -2 * b.detach()\n",
    },
}
CHEAT = {  # an answer whose comparisons always succeed: only data crosses the boundary, so it earns nothing
    "mse": "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n    __le__ = __ge__ = __eq__\n"
    "    def __sub__(self, other):\n        return 0.0\n    __abs__ = lambda self: 0.0\n\n"
    "def mse(y_pred, y_true):\n    return AlwaysEqual()\n",
}
CRASH = {"sgd_step": "import os\n\ndef sgd_step(params, lr):\n    os._exit(1)\n"}
N_CORRECT = 10


def build_class(assignment: Assignment, release_notebook: Path, folder: Path) -> list[str]:
    """A flat LMS download: <student>.ipynb files. Returns the student ids."""
    notebook = samples.read(release_notebook)
    full = samples.reference_sources(assignment)
    made = {}
    for i in range(N_CORRECT):
        made[f"student{i + 1:02d}"] = samples.fill_stubs(notebook, full)
    for name, broken in MISTAKES.items():
        made[f"mistake_{name}"] = samples.fill_stubs(notebook, {**full, **broken})
    made["cheat_always_equal"] = samples.fill_stubs(notebook, {**full, **CHEAT})
    made["crash_os_exit"] = samples.fill_stubs(notebook, {**full, **CRASH})
    made["untouched_release"] = notebook
    for student, nb in made.items():
        samples.write(nb, folder / f"{student}.ipynb")
    (folder / "corrupt_file.ipynb").write_text('{"cells": [ this is not json', encoding="utf-8")
    return [*made, "corrupt_file"]


def make_course(folder: Path, example: str = ASSIGNMENT) -> Course:
    """A throwaway course made as an instructor makes one (`course init DIR --example line_fit`). A folder
    left by an earlier demo is replaced; any other non-empty folder is an error, never deleted."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / DEMO_MARK).exists():
            raise CourseError(f"{folder} is not empty and was not made by course demo: choose another folder")
        shutil.rmtree(folder)
    course = init_course(folder, examples=[example])
    (course.root / DEMO_MARK).write_text("made by course demo: deleted by the next one\n")
    return course


def run_demo(folder: Path, workers: int | None = None) -> dict:
    from autograder.grading.batch import format_table, grade_folder
    from autograder.pages.feedback import write_feedback
    from autograder.pages.report import write_report

    started = time.perf_counter()
    course = make_course(folder)
    assignment = course.assignment(ASSIGNMENT)
    release_folder = release(course, ASSIGNMENT)
    print(f"released      {release_folder / f'{ASSIGNMENT}.ipynb'}")
    downloads = course.root / "lms_download"
    students = build_class(assignment, release_folder / f"{ASSIGNMENT}.ipynb", downloads)
    print(f"class         {len(students)} submissions in {downloads}")
    out = course.root / "graded" / ASSIGNMENT
    results = grade_folder(
        assignment, downloads, out, workers=workers, force=True, on_result=Recorder(course, ASSIGNMENT)
    )
    pages = write_feedback(course, ASSIGNMENT, results)
    report = write_report(ASSIGNMENT, results, course.root / "reports" / f"{ASSIGNMENT}.html")
    print(format_table(results))
    print(f"grades        {out / 'grades.csv'}")
    print(f"gradebook     {course.db_url}")
    print(f"feedback      {len(pages)} pages, e.g. {pages[sorted(pages)[0]]}")
    print(f"class report  {report}")
    print(f"demo took {time.perf_counter() - started:.1f} s")
    return results
