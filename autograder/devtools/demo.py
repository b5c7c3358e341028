"""`course demo`: the whole pipeline on a throwaway course and a synthetic class of about 20 students.

Release with nbgrader, a class of submissions (correct ones, typical mistakes, one cheat, one that
crashes, one corrupt file) as a flat LMS download, grading into the gradebook, feedback pages, the class
report, and the grade table.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from autograder.authoring.release import release
from autograder.devtools import samples
from autograder.gradebook import records as gradebook

KIT_ROOT = Path(__file__).resolve().parents[2]

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


def build_class(release_notebook: Path, folder: Path) -> list[str]:
    """A flat LMS download: <student>.ipynb files. Returns the student ids."""
    notebook = samples.read(release_notebook)
    full = samples.reference_sources()
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


def make_course(course_root: Path) -> Path:
    """A throwaway nbgrader course: the kit's assignments and config, nothing else."""
    if course_root.exists():
        shutil.rmtree(course_root)
    course_root.mkdir(parents=True)
    shutil.copytree(KIT_ROOT / "assignments", course_root / "assignments")
    shutil.copy2(KIT_ROOT / "nbgrader_config.py", course_root / "nbgrader_config.py")
    return course_root


def run_demo(course_root: Path, assignment: str = "line_fit", workers: int | None = None) -> dict:
    from autograder.cli import format_table
    from autograder.grading.batch import grade_folder
    from autograder.pages.feedback import write_feedback
    from autograder.pages.report import write_report

    started = time.perf_counter()
    make_course(course_root)
    release_folder = release(assignment, course_root)
    print(f"released      {release_folder / f'{assignment}.ipynb'}")
    downloads = course_root / "lms_download"
    students = build_class(release_folder / f"{assignment}.ipynb", downloads)
    print(f"class         {len(students)} submissions in {downloads}")
    out = course_root / "graded" / assignment
    results = grade_folder(
        assignment, downloads, out, workers=workers, force=True, on_result=gradebook.Recorder(assignment, course_root)
    )
    pages = write_feedback(assignment, course_root, results)
    report = write_report(assignment, results, course_root / "reports" / f"{assignment}.html")
    print(format_table(results))
    print(f"grades        {out / 'grades.csv'}")
    print(f"gradebook     {gradebook.db_url(course_root)}")
    print(f"feedback      {len(pages)} pages, e.g. {pages[sorted(pages)[0]]}")
    print(f"class report  {report}")
    print(f"demo took {time.perf_counter() - started:.1f} s")
    return results
