"""`course init` and `course new`: a new course folder, and a new assignment in it from a small template.

A new course gets nbgrader_config.py, the folders the kit reads (assignments/, solutions/, hidden_tests/),
a course_utils/ holding only what every course needs (check(), the public tests' runner), a .gitignore
covering every folder the `course` commands write, and a README for the instructor. With `--example NAME`
(repeatable) the kit's own assignments are copied in, each with its solution and hidden tests, and the kit's
whole course_utils/ with them (their data sets and figures), since the examples' notebooks import it.

`course new NAME` writes a template assignment that works out of the box: a source notebook with one
graded function (`standardize`), its public test, its reference solution, two hidden tests (one of the
value, one of a property that pays only with a right value), a sandbox helpers module that the hidden
tests also import, a catalogue of submissions and a late.toml (commented: no due date until one is set);
it passes `course check` as it is. The files under template/ are its text, with `__assignment__` standing for NAME.
"""

from __future__ import annotations

import json
import keyword
import shutil
from collections.abc import Iterable
from pathlib import Path

from autograder.course import CONFIG_NAME, Course, CourseError

KIT_ROOT = Path(__file__).resolve().parents[2]  # the kit's own repository is a course: the examples' source
TEMPLATE = Path(__file__).resolve().parent / "template"
TOKEN = "__assignment__"
TEMPLATE_FUNCTION = "standardize"
TEMPLATE_POINTS = 3

CONFIG = '''"""nbgrader configuration of the course {course_id}: this folder is the course root."""

c = get_config()  # noqa: F821  (nbgrader injects get_config)

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "assignments"
c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".pytest_cache"]
# Where the kit finds each assignment's hidden tests (never released) and reference solutions.
c.CourseKit.hidden_tests_directory = "hidden_tests"
c.CourseKit.solutions_directory = "solutions"
'''

GITIGNORE = """# Written by the course commands: releases, submissions, grades, pages and exports.
release/
submitted/
autograded/
feedback/
reports/
exports/
gradescope/
graded/
gradebook.db
__pycache__/
*.pyc
.ipynb_checkpoints/
.pytest_cache/
"""

README = """# {course_id}

A PyTorch course graded with the course kit. See the kit's docs/authoring.md for the whole guide.

```
course new NAME                          # a new assignment from the template
course release NAME                      # release/NAME/: what students get
course grade NAME SUBMISSIONS --out OUT  # hidden tests in the sandbox; scores into gradebook.db
course feedback NAME                     # feedback/<student>/NAME/NAME.html
course report NAME                       # reports/NAME.html
course export NAME                       # exports/NAME.csv
```

- `assignments/NAME/NAME.ipynb`: the source notebook (solutions between `### BEGIN SOLUTION` and
  `### END SOLUTION`), and `public_tests/`, which ship to students.
- `solutions/NAME.py`: the reference the hidden tests compare against. Never released.
- `hidden_tests/NAME/`: the hidden tests (`test_*.py`), `limits.toml`, `late.toml`, `catalogue.py` and
  `helpers.py`. Never released;
  `helpers.py` runs inside the sandbox, where student code can read it: put nothing secret there.
- `course_utils/`: what student notebooks import (`check()`, and your data sets and figures); it ships
  with every release.

Before a release, `course check NAME` proves the assignment: reference, catalogue, thieves, mutants.
"""


COURSE_UTILS_INIT = '''"""What this course's notebooks import. check("name") runs the public tests of one
function; add the course's own data sets and figures here (every release ships this package)."""

from .check import CheckResult, check

__all__ = ["CheckResult", "check"]
'''


def _empty_or_new(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise CourseError(f"{folder} already exists and is not an empty folder")


def init_course(folder: Path, examples: Iterable[str] = ()) -> Course:
    """A new course in `folder` (which must not exist, or be empty), with copies of the kit's `examples`."""
    folder = folder.resolve()
    _empty_or_new(folder)
    kit = Course.at(KIT_ROOT)
    examples = list(dict.fromkeys(examples))
    for example in examples:
        if example not in kit.assignment_names():
            known = ", ".join(kit.assignment_names())
            raise CourseError(f"the kit has no example assignment {example!r} (examples: {known})")
    course_id = folder.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_NAME).write_text(CONFIG.format(course_id=course_id), encoding="utf-8")
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (folder / "README.md").write_text(README.format(course_id=course_id), encoding="utf-8")
    for name in ("assignments", "hidden_tests", "solutions"):
        (folder / name).mkdir()
    (folder / "solutions" / "__init__.py").write_text('"""Reference solutions: never released."""\n')
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints")
    if examples:
        shutil.copytree(kit.course_utils, folder / "course_utils", ignore=ignore)
    else:
        (folder / "course_utils").mkdir()
        (folder / "course_utils" / "__init__.py").write_text(COURSE_UTILS_INIT, encoding="utf-8")
        shutil.copy2(kit.course_utils / "check.py", folder / "course_utils" / "check.py")
    course = Course.at(folder)
    for example in examples:
        shutil.copytree(kit.source / example, course.source / example, ignore=ignore)
        shutil.copy2(kit.solutions / f"{example}.py", course.solutions / f"{example}.py")
        shutil.copytree(kit.hidden_tests / example, course.hidden_tests / example, ignore=ignore)
    return course


def new_assignment(course: Course, name: str) -> list[Path]:
    """Write the template assignment `name` into the course; returns the files written."""
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise CourseError(f"{name!r} is not a usable assignment name: use a Python identifier, e.g. week3_tensors")
    targets = {
        "source": course.source / name,
        "solution": course.solutions / f"{name}.py",
        "hidden": course.hidden_tests / name,
    }
    taken = [str(path) for path in targets.values() if path.exists()]
    if taken:
        raise CourseError(f"assignment {name!r} exists already: {', '.join(taken)}")
    written = []
    for template_file in sorted(TEMPLATE.rglob("*")):
        if template_file.is_dir() or "__pycache__" in template_file.parts:
            continue
        relative = template_file.relative_to(TEMPLATE)
        top, rest = relative.parts[0], Path(*relative.parts[1:])
        base = {"assignments": course.source / name, "hidden_tests": course.hidden_tests / name}.get(top)
        target = course.solutions / f"{name}.py" if top == "solution.py" else base / rest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template_file.read_text(encoding="utf-8").replace(TOKEN, name), encoding="utf-8")
        written.append(target)
    init = course.solutions / "__init__.py"
    if not init.exists():
        init.write_text('"""Reference solutions: never released."""\n')
    notebook = course.source / name / f"{name}.ipynb"
    notebook.write_text(json.dumps(template_notebook(name), indent=1) + "\n", encoding="utf-8")
    return [*written, notebook]


def _cell(kind: str, grade_id: str, source: str, solution: bool = False, points: float | None = None) -> dict:
    nbgrader = {"grade": points is not None, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                "solution": solution}  # fmt: skip
    if points is not None:
        nbgrader["points"] = points
    cell = {"cell_type": kind, "id": grade_id, "metadata": {"nbgrader": nbgrader}, "source": source}
    if kind == "code":
        cell |= {"execution_count": None, "outputs": []}
    return cell


def template_notebook(name: str) -> dict:
    """The template's source notebook: an introduction, one graded function and its check() cell."""
    fn = TEMPLATE_FUNCTION
    cells = [
        _cell(
            "markdown",
            "md_title",
            f"# {name}\n\nWrite `{fn}` below ({TEMPLATE_POINTS} points). Run the "
            f'`check("{fn}")` cell under it for quick feedback from the public tests; the hidden tests decide '
            "the grade.",
        ),  # fmt: skip
        _cell("code", "imports", "import torch\n\nfrom course_utils import check"),
        _cell(
            "markdown",
            "md_task",
            f"`{fn}(x)` rescales every column of a 2-D tensor to mean 0 and standard "
            "deviation 1 (the sample standard deviation, as `torch.std` computes it). It returns a new tensor "
            "of the input's dtype and leaves `x` as it was.",
        ),  # fmt: skip
        _cell(
            "code",
            f"{fn}_solution",
            f"def {fn}(x: torch.Tensor) -> torch.Tensor:\n"
            '    """Each column of x shifted to mean 0 and scaled to standard deviation 1."""\n'
            "    ### BEGIN SOLUTION\n    return (x - x.mean(dim=0)) / x.std(dim=0)\n    ### END SOLUTION",
            solution=True,
        ),  # fmt: skip
        _cell("code", f"test_{fn}", f'check("{fn}")', points=TEMPLATE_POINTS),
        _cell("code", "try_it", f"{fn}(torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]))"),
    ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
