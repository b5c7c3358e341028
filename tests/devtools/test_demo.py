"""`course demo` (what `make demo` runs): the whole pipeline on a throwaway course, in under two minutes on
two cores, ending with the grade table and the paths of pages that exist and hold their pictures."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_the_demo_runs_the_whole_pipeline_in_under_two_minutes(tmp_path):
    course = tmp_path / "demo_course"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "demo", str(course)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert seconds < 120, f"the demo took {seconds:.0f} s"
    table = dict(re.findall(r"^(\w+) +(\d+(?:\.\d+)?)/20", done.stdout, re.MULTILINE))
    assert len(table) >= 20 and table["student01"] == "20" and table["untouched_release"] == "0"
    assert table["corrupt_file"] == "0" and "(could not be read)" in done.stdout
    assert all(float(table[s]) < 20 for s in table if s.startswith(("mistake_", "cheat_", "crash_")))
    (feedback_line,) = [line for line in done.stdout.splitlines() if line.startswith("feedback")]
    assert Path(feedback_line.split("e.g. ")[1]).is_file()
    pages = list((course / "feedback").glob("*/line_fit/line_fit.html"))
    assert len(pages) == len(table)
    student_page = (course / "feedback" / "student01" / "line_fit" / "line_fit.html").read_text(encoding="utf-8")
    assert student_page.count("data:image/png;base64,") >= 2  # the fitted line and the loss curves
    report = (course / "reports" / "line_fit.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in report and "corrupt_file" in report
    assert (course / "release" / "line_fit" / "line_fit.ipynb").is_file()
    assert (course / "graded" / "line_fit" / "grades.csv").is_file() and (course / "gradebook.db").is_file()
