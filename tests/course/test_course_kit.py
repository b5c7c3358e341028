"""A course kit, not one notebook: `course` finds the course it is run in, `course init` makes one anywhere,
`course new` adds a working assignment, and the engine names no assignment of the example course.

The end-to-end test drives only the `course` command, as an instructor would, in a folder outside the kit,
and checks that nothing in the kit's own folders changes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.authoring.release import release
from autograder.authoring.scaffold import init_course, new_assignment
from autograder.course import Course, CourseError, find_course, find_root
from tests.support import ROOT

# What the example course (line_fit) calls its assignment, graded functions and sandbox helpers.
EXAMPLE_NAMES = ("line_fit", "mse", "sgd_step", "train", "loss_landscape", "gradients", "line_model", "polynomial")
# The second assignment's names, once it exists.
SECOND_NAMES = ("mlp_spirals", "make_mlp", "cross_entropy", "minibatches", "train_epoch", "evaluate")
# Where a course's own content and the dev tools live; every other module of the package is the engine.
NOT_ENGINE = ("autograder/hidden_tests/", "autograder/devtools/")


def course(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    if ok:
        assert done.returncode == 0, f"course {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def tree_digest(folder: Path) -> dict[str, int]:
    """Every tracked-looking file of the kit with its size and mtime: what a run must leave alone."""
    skip = (".git/", ".venv/", ".pytest_cache/", ".ruff_cache/", "__pycache__/", "demo_course/", ".egg-info/")
    digest = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and not any(part in relative + "/" for part in skip) and ".egg-info" not in relative:
            digest[relative] = path.stat().st_mtime_ns
    return digest


def engine_modules() -> list[Path]:
    return [
        path for path in sorted((ROOT / "autograder").rglob("*.py"))
        if not path.relative_to(ROOT).as_posix().startswith(NOT_ENGINE)
    ]  # fmt: skip


@pytest.mark.parametrize("names", [EXAMPLE_NAMES, SECOND_NAMES], ids=["line_fit", "mlp_spirals"])
def test_no_engine_module_names_an_assignment_or_its_functions(names):
    pattern = re.compile(r"\b(" + "|".join(names) + r")\b")
    modules = engine_modules()
    assert len(modules) > 20  # the detector looks at the engine
    found = {}
    for path in modules:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.setdefault(path.relative_to(ROOT).as_posix(), []).append(f"{number}: {line.strip()}")
    assert not found, json.dumps(found, indent=1)


def test_the_naming_detector_fires_on_a_module_that_names_one():
    pattern = re.compile(r"\b(" + "|".join(EXAMPLE_NAMES) + r")\b")
    assert pattern.search('STAND_INS = {"mse": good_mse}') and pattern.search("def train(model):")
    assert not pattern.search("a model in training mode, retrained, with its trainable parameters")


def test_the_course_root_is_found_upward_and_outside_a_course_is_an_error(tmp_path):
    assert find_root(ROOT / "autograder" / "grading") == ROOT
    assert find_course(ROOT).hidden_tests == ROOT / "autograder" / "hidden_tests"
    with pytest.raises(CourseError, match="course init"):
        find_root(tmp_path)
    done = course("release", "line_fit", cwd=tmp_path, ok=False)
    assert done.returncode == 1 and "not inside a course" in done.stderr and "course init" in done.stderr
    assert not (tmp_path / "release").exists()


def test_init_refuses_a_folder_in_use_and_new_refuses_bad_names(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(CourseError, match="not an empty folder"):
        init_course(tmp_path / "taken")
    with pytest.raises(CourseError, match="no example assignment"):
        init_course(tmp_path / "fresh", examples=["nope"])
    made = init_course(tmp_path / "fresh2")
    for bad in ("../escape", "class", "2fast", "_private", "has space"):
        with pytest.raises(CourseError, match="not a usable assignment name"):
            new_assignment(made, bad)
    new_assignment(made, "week1")
    with pytest.raises(CourseError, match="exists already"):
        new_assignment(made, "week1")
    assert made.assignment_names() == ["week1"]


def test_an_unknown_assignment_names_the_known_ones(tmp_path):
    made = init_course(tmp_path / "c")
    with pytest.raises(CourseError, match="none yet"):
        made.assignment("week1")
    new_assignment(made, "week1")
    with pytest.raises(CourseError, match=r"known: week1"):
        Course.at(made.root).assignment("week2")


@pytest.mark.slow
def test_a_course_made_with_the_course_command_only(tmp_path):
    """course init (with the kit's two assignments), course new, then release, grade, feedback, report and export
    of all three, from inside the new course: everything lands there, and the kit is untouched."""
    before = tree_digest(ROOT)
    course("init", "mycourse", "--example", "line_fit", "--example", "mlp_spirals", cwd=tmp_path)
    root = tmp_path / "mycourse"
    inside = root / "assignments"  # any folder in the course finds it
    course("new", "hello", cwd=inside)
    gitignore = (root / ".gitignore").read_text()
    for name in ("hello", "line_fit", "mlp_spirals"):
        course("release", name, cwd=inside)
        release = root / "release" / name
        assert (release / f"{name}.ipynb").is_file() and (release / "course_utils" / "check.py").is_file()
        source = json.loads((root / "assignments" / name / f"{name}.ipynb").read_text())
        stub = json.loads((release / f"{name}.ipynb").read_text())
        solved = root / "lms" / name / "solved.ipynb"
        solved.parent.mkdir(parents=True)
        solved.write_text(json.dumps(source))  # the source notebook: every solution in place
        (solved.parent / "untouched.ipynb").write_text(json.dumps(stub))
        done = course("grade", name, str(solved.parent), "--out", str(root / "graded" / name), cwd=root)
        table = dict(re.findall(r"^(\w+) +([\d.]+/[\d.]+)", done.stdout, re.MULTILINE))
        total = table["solved"].split("/")[1]
        assert table == {"solved": f"{total}/{total}", "untouched": f"0/{total}"}, done.stdout
        untouched = json.loads((root / "graded" / name / "untouched" / "results.json").read_text())
        assert all("not implemented" in test["output"] for test in untouched["tests"])
        course("feedback", name, cwd=root)
        course("report", name, cwd=root)
        course("export", name, cwd=root)
        page = (root / "feedback" / "solved" / name / f"{name}.html").read_text(encoding="utf-8")
        assert page.count("data:image/png;base64,") >= {"hello": 0, "line_fit": 2, "mlp_spirals": 3}[name]
        assert (root / "reports" / f"{name}.html").is_file()
        rows = list(csv.DictReader(io.StringIO((root / "exports" / f"{name}.csv").read_text())))
        assert {row["student"]: float(row["score"]) for row in rows} == {"solved": float(total), "untouched": 0.0}
    for folder in ("release", "submitted", "autograded", "feedback", "reports", "exports", "graded"):
        assert (root / folder).is_dir() and f"{folder}/" in gitignore, folder
    assert "gradebook.db" in gitignore and (root / "gradebook.db").is_file()
    assert tree_digest(ROOT) == before, "a course command changed the kit's own files"


@pytest.mark.slow
def test_a_course_without_examples_releases_nothing_of_the_kits_examples(tmp_path):
    made = init_course(tmp_path / "plain")
    assert sorted(p.name for p in made.course_utils.iterdir()) == ["__init__.py", "check.py"]
    assert {"assignments", "hidden_tests", "solutions"} <= {p.name for p in made.root.iterdir()}
    new_assignment(made, "week1")
    assert {"late.toml", "catalogue.py", "limits.toml", "helpers.py"} <= {
        p.name for p in made.assignment("week1").tests.iterdir()
    }
    released = release(made, "week1")
    files = sorted(p.relative_to(released).as_posix() for p in released.rglob("*") if p.is_file())
    kit_files = {p.name for p in (ROOT / "course_utils").glob("*.py")} - {"__init__.py", "check.py"}
    assert kit_files and not [f for f in files if Path(f).name in kit_files], files
    text = " ".join(p.read_text(errors="replace") for p in released.rglob("*") if p.is_file())
    assert not re.search(r"spirals|line_fit|two notebooks", text), "the release names a kit example"
