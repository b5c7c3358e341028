"""The Gradescope autograder: `course gradescope` writes autograder.zip; unzipped into a root laid out like
/autograder, its run_autograder grades a submission as `course grade` does (the same score per test for a
correct notebook, a catalogued mistake and a red-team cheat), writes results.json in Gradescope's schema with
no hidden-test or reference code in it, and never crashes for a missing, doubled or unreadable notebook."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from autograder.authoring.check import catalogue, samples
from autograder.authoring.release import release
from autograder.grading.batch import grade_folder
from autograder.sandbox.launcher import isolation
from tests.support.redteam import ALL

pytestmark = pytest.mark.slow
ASSIGNMENT = "line_fit"
TEST_FIELDS = {"name": str, "score": float, "max_score": float, "status": str, "output": str, "tags": list,
               "number": str, "visibility": str}  # fmt: skip


@pytest.fixture(scope="module")
def built(make_course, tmp_path_factory):
    """The course, its autograder.zip (visibility after_published), and notebooks to submit."""
    course = make_course("gradescope")
    notebook = release(course, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    argv = [sys.executable, "-m", "autograder", "gradescope", ASSIGNMENT, "--visibility", "after_published"]
    done = subprocess.run(argv, cwd=course.root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    zipped = course.root / "gradescope" / ASSIGNMENT / "autograder.zip"
    assignment = course.assignment(ASSIGNMENT)
    folder = tmp_path_factory.mktemp("notebooks")
    reference = samples.reference_sources(assignment)
    mistake = next(e for e in catalogue.load(assignment).MISTAKES if e.name == "mse_sums")
    cheat = next(t for t in ALL if t.name == "lying_object")
    notebooks = {
        "correct": catalogue.build(notebook, reference, folder / "correct.ipynb"),
        "mistake": catalogue.build(notebook, catalogue.full(assignment, mistake), folder / "mistake.ipynb"),
        "cheat": catalogue.build(notebook, {**reference, **cheat.functions}, folder / "cheat.ipynb"),
    }
    return course, zipped, notebooks


def autograder_root(zipped: Path, folder: Path, files: dict[str, bytes]) -> Path:
    root = folder / "autograder"
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # zipfile drops the mode bits: put run_autograder's back
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, mode & 0o777)
    (root / "submission").mkdir()
    for name, data in files.items():
        (root / "submission" / name).write_bytes(data)
    return root


def run_autograder(root: Path) -> tuple[dict, str]:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root / "source", env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text()), done.stdout


def check_schema(results: dict, visibility: str = "after_published") -> None:
    assert isinstance(results["score"], float) and isinstance(results["execution_time"], float)
    assert isinstance(results["output"], str) and results["stdout_visibility"] == "hidden"
    assert set(results) == {"score", "execution_time", "output", "stdout_visibility", "tests"}
    for test in results["tests"]:
        assert set(test) == set(TEST_FIELDS), test
        assert all(isinstance(test[key], kind) for key, kind in TEST_FIELDS.items()), test
        assert test["status"] in ("passed", "failed") and test["visibility"] == visibility
        assert all(isinstance(tag, str) for tag in test["tags"])


def test_the_zip_has_setup_and_run_autograder_at_its_root(built):
    _, zipped, _ = built
    with zipfile.ZipFile(zipped) as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder", "config.json", "course.tar", "kit/pyproject.toml"} <= names
        assert not any(name.startswith("kit/autograder/hidden_tests") for name in names)
        setup = archive.read("setup.sh").decode()
        assert "bubblewrap" in setup and "torch==2.13.0" in setup and "download.pytorch.org/whl/cpu" in setup
        assert "constraints.txt" in setup


@pytest.mark.parametrize("kind", ["correct", "mistake", "cheat"])
def test_run_autograder_scores_every_test_as_course_grade_does(built, kind, tmp_path):
    course, zipped, notebooks = built
    notebook = notebooks[kind]
    root = autograder_root(zipped, tmp_path, {"submission.ipynb": notebook.read_bytes()})
    results, stdout = run_autograder(root)
    check_schema(results)
    (tmp_path / "lms").mkdir()
    (tmp_path / "lms" / f"{kind}.ipynb").write_bytes(notebook.read_bytes())
    local = grade_folder(course.assignment(ASSIGNMENT), tmp_path / "lms", tmp_path / "out", workers=1)[kind].data
    assert {t["name"]: t["score"] for t in results["tests"]} == {t["name"]: t["score"] for t in local["tests"]}
    assert results["score"] == local["score"] and (results["score"] == 20) == (kind == "correct")
    text = json.dumps(results)
    for path in [course.solutions / "line_fit.py", *sorted((course.hidden_tests / ASSIGNMENT).glob("test_*.py"))]:
        secret = [line.strip() for line in path.read_text().splitlines() if len(line.strip()) >= 30]
        assert not [line for line in secret if line in text], path.name
    if isolation()[0] == "plain":
        assert "NOT isolated" in stdout


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({}, "no notebook"),
        ({"a.ipynb": b"{}", "b.ipynb": b"{}"}, "2 notebooks were submitted"),
        ({"line_fit.ipynb": b'{"cells": [ not json'}, "not valid notebook JSON"),
    ],
    ids=["missing", "several", "unreadable"],
)
def test_a_submission_without_one_readable_notebook_scores_zero_with_the_reason(built, files, reason, tmp_path):
    _, zipped, _ = built
    results, _ = run_autograder(autograder_root(zipped, tmp_path, files))
    check_schema(results)
    assert results["score"] == 0 and reason in results["output"]
    assert results["tests"] and all(t["status"] == "failed" and reason in t["output"] for t in results["tests"])


def test_where_isolation_is_required_and_impossible_every_test_says_grading_is_unavailable(built, tmp_path):
    _, zipped, notebooks = built
    root = autograder_root(zipped, tmp_path, {"submission.ipynb": notebooks["correct"].read_bytes()})
    fake_bin = tmp_path / "bin"  # a container where bwrap cannot make namespaces
    fake_bin.mkdir()
    (fake_bin / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    (fake_bin / "bwrap").chmod(0o755)
    limits = root / "source" / "course.tar"
    with tarfile.open(fileobj=io.BytesIO(limits.read_bytes())) as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    members["hidden_tests/line_fit/limits.toml"] = b"require_isolation = true\n"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    limits.write_bytes(buffer.getvalue())
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "PATH": f"{fake_bin}:{Path(sys.executable).parent}:/usr/bin:/bin",
    }
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    check_schema(results)
    assert results["score"] == 0 and results["tests"]
    assert all("grading is unavailable" in t["output"] and "not a problem with your code" in t["output"]
               for t in results["tests"])  # fmt: skip
    assert "cannot isolate student code here" in done.stdout and "require_isolation" in done.stdout
