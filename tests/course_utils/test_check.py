"""course_utils.check: the public tests judge right and wrong functions, and the report is short and clear.

check() runs in this process against functions placed in __main__, as in a plain Python session.
"""

import sys

import pytest
import torch

from course_utils import check
from solutions import line_fit as reference
from tests.support.notebook_runner import GRADED, SOURCE_NOTEBOOK


@pytest.fixture
def student(monkeypatch):
    """Put functions into the namespace check() reads (here __main__), from the notebook's folder."""
    monkeypatch.chdir(SOURCE_NOTEBOOK.parent)
    main = sys.modules["__main__"]
    for name in GRADED:
        monkeypatch.delattr(main, name, raising=False)

    def define(**functions):
        for name, function in functions.items():
            monkeypatch.setattr(main, name, function, raising=False)

    return define


@pytest.mark.parametrize("name", GRADED)
def test_reference_passes_every_public_test(student, capsys, name):
    student(**{graded: getattr(reference, graded) for graded in GRADED})
    result = check(name)
    out = capsys.readouterr().out
    assert result.ok and result.passed == result.total >= 2
    assert out.splitlines()[0] == f"{name}: {result.total}/{result.total} public tests passed"
    assert "hidden tests decide your grade" in out
    assert "all tests" not in out.lower()


def _mse_sum(y_pred, y_true):
    return ((y_pred - y_true) ** 2).sum()


def _sgd_step_without_no_grad(params, lr):
    for p in params:
        p -= lr * p.grad


def _train_records_after_step(model, x, y, n_steps, lr):
    losses = []
    for _ in range(n_steps):
        loss = reference.mse(model(x), y)
        model.zero_grad()
        loss.backward()
        reference.sgd_step(model.parameters(), lr)
        losses.append(reference.mse(model(x), y).item())
    return losses


def _landscape_wrong_axis(x, y, a_grid, b_grid):
    return ((a_grid.unsqueeze(-1) * x + b_grid.unsqueeze(-1) - y) ** 2).mean(dim=0)


def _gradients_with_backward(f, *inputs):
    for t in inputs:
        t.requires_grad_(True)
    f(*inputs).backward()
    return tuple(t.grad for t in inputs)


@pytest.mark.parametrize(
    ("name", "wrong", "hint"),
    [
        ("mse", _mse_sum, "expected 1.3333, got 4.0000"),
        ("sgd_step", _sgd_step_without_no_grad, "raised RuntimeError: a leaf Variable"),
        ("train", _train_records_after_step, "record the loss before the update"),
        ("loss_landscape", _landscape_wrong_axis, "expected shape (3, 4) like the grid"),
        ("gradients", _gradients_with_backward, "an input that did not require grad now does"),
    ],
)
def test_typical_mistakes_fail_with_a_hint(student, capsys, name, wrong, hint):
    student(**{graded: getattr(reference, graded) for graded in GRADED})
    student(**{name: wrong})
    result = check(name)
    out = capsys.readouterr().out
    assert result.status == "failed" and result.passed < result.total
    assert f"{name}: {result.passed}/{result.total} public tests passed" in out
    assert "✗" in out and hint in out
    assert "Traceback" not in out and "====" not in out and "assert " not in out


def test_not_implemented(student, capsys):
    def mse(y_pred, y_true):
        raise NotImplementedError()

    student(mse=mse)
    result = check("mse")
    assert result.status == "not_implemented" and result.passed == 0
    assert capsys.readouterr().out.startswith("mse is not implemented yet")


def test_not_implemented_in_a_function_it_calls(student, capsys):
    def sgd_step(params, lr):
        raise NotImplementedError()

    student(mse=reference.mse, sgd_step=sgd_step, train=reference.train)
    # the reference train calls the reference sgd_step, so use a train that calls ours
    student(train=lambda model, x, y, n_steps, lr: [sgd_step(model.parameters(), lr)])
    result = check("train")
    assert result.status == "not_implemented"
    assert "calls sgd_step, which is not implemented yet" in capsys.readouterr().out


def test_missing_function(student, capsys):
    result = check("loss_landscape")
    assert result.status == "missing" and result.total == 0
    assert "define loss_landscape by running its cell first" in capsys.readouterr().out


def test_public_tests_not_found(student, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    student(mse=reference.mse)
    result = check("mse")
    out = capsys.readouterr().out
    assert result.status == "error"
    assert "could not find the public tests (public_tests/test_mse.py)" in out


def test_repeated_calls_and_a_function_that_changes(student, capsys):
    student(mse=_mse_sum)
    assert check("mse").status == "failed"
    student(mse=reference.mse)
    assert check("mse").ok
    assert check("mse").ok
    capsys.readouterr()


def test_never_raises(student, capsys):
    def mse(y_pred, y_true):
        raise SystemError("boom")

    student(mse=mse)
    assert check("mse").passed == 0
    student(mse=lambda *args: torch.tensor(float("nan")))
    assert check("mse").status == "failed"
    assert check(None).status == "error"  # type: ignore[arg-type]
    capsys.readouterr()
