"""`course bench` (make bench) keeps working: a small run prints both sides, the ratio and the peak memory."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_a_small_bench_prints_both_sides_and_the_ratio():
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "bench", "--n", "2", "--large-n", "4"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    ours = float(re.search(r"^course grade +([\d.]+) s/submission", done.stdout, re.MULTILINE)[1])
    theirs = float(re.search(r"^nbgrader autograde +([\d.]+) s/submission", done.stdout, re.MULTILINE)[1])
    ratio = float(re.search(r"^ratio +([\d.]+)x faster", done.stdout, re.MULTILINE)[1])
    assert ratio == pytest.approx(theirs / ours, rel=0.05)
    pages = float(re.search(r"^course feedback +([\d.]+) s/page", done.stdout, re.MULTILINE)[1])
    assert pages > 0
    assert re.search(r"^peak memory +course grade \d+ MB, nbgrader \d+ MB", done.stdout, re.MULTILINE)
    assert re.search(r"^N = 4: course grade [\d.]+ s/submission", done.stdout, re.MULTILINE)


def test_check_is_quick_in_a_warm_kernel_for_every_function():
    """course bench --check: one line per graded function of both assignments (the figure to keep under
    0.5 s, as measured on an idle machine; the bound here leaves room for a busy CI machine)."""
    done = subprocess.run([sys.executable, "-m", "autograder", "bench", "--check"], capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    times = dict(re.findall(r"^check\('(\w+)'\) +([\d.]+) s", done.stdout, re.MULTILINE))
    assert set(times) == {"mse", "sgd_step", "train", "loss_landscape", "gradients", "make_mlp", "cross_entropy",
                          "accuracy", "minibatches", "train_epoch", "evaluate"}  # fmt: skip
    assert all(float(seconds) < 2.0 for seconds in times.values()), times
    assert "public tests passed" in done.stdout and "0/" not in done.stdout
