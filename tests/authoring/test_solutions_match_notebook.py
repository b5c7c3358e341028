"""One truth: the solution regions of the source notebook are solutions/line_fit.py, and behave like it.

The graded cells are executed on their own (as nbgrader keeps them, markers included) and compared with
the reference on random inputs; their code is also compared with the reference's, syntax tree to tree.
"""

import ast
import inspect
import re
from collections.abc import Callable, Iterable

import nbformat
import pytest
import torch

from course_utils import make_model
from solutions import line_fit as reference
from tests.support.notebook_runner import GRADED, SOURCE_NOTEBOOK, cell_by_grade_id, grade_id, source

SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.DOTALL | re.MULTILINE)


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(SOURCE_NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def ours(notebook):
    """The notebook's graded functions, defined by executing their cells in one namespace."""
    namespace = {"torch": torch, "Callable": Callable, "Iterable": Iterable}
    for name in GRADED:
        exec(compile(source(cell_by_grade_id(notebook, f"{name}_solution")), f"<{name} cell>", "exec"), namespace)
    return namespace


def test_graded_cells_are_marked_for_nbgrader(notebook):
    points = {"mse": 4, "sgd_step": 4, "train": 6, "loss_landscape": 3, "gradients": 3}
    for name in GRADED:
        solution = cell_by_grade_id(notebook, f"{name}_solution")
        meta = solution.metadata["nbgrader"]
        assert (meta["solution"], meta["grade"], meta["locked"], meta["schema_version"]) == (True, False, False, 3)
        assert re.search(rf"^def {name}\(", source(solution), re.MULTILINE)
        assert len(SOLUTION_REGION.findall(source(solution))) == 1
        test = cell_by_grade_id(notebook, f"test_{name}")
        meta = test.metadata["nbgrader"]
        assert (meta["solution"], meta["grade"], meta["locked"], meta["points"]) == (False, True, True, points[name])
        assert source(test) == f'check("{name}")'
        index = notebook.cells.index(solution)
        assert notebook.cells[index + 1] is test, f"test_{name} should follow {name}'s cell"
    assert sum(points.values()) == 20
    ids = [grade_id(cell) for cell in notebook.cells if grade_id(cell)]
    assert len(ids) == len(set(ids))
    assert not any(
        "BEGIN SOLUTION" in source(cell)
        for cell in notebook.cells
        if not grade_id(cell) or not cell.metadata["nbgrader"].get("solution")
    )


def test_outputs_are_cleared(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("name", GRADED)
def test_same_code_signature_and_docstring(notebook, ours, name):
    mine, theirs = ours[name], getattr(reference, name)
    assert inspect.signature(mine, eval_str=True) == inspect.signature(theirs, eval_str=True)
    assert mine.__doc__ == theirs.__doc__
    cell = source(cell_by_grade_id(notebook, f"{name}_solution"))
    without_markers = SOLUTION_REGION.sub(lambda match: match.group(1), cell)
    assert ast.dump(ast.parse(without_markers)) == ast.dump(ast.parse(inspect.getsource(theirs)))


def _random_shape(generator):
    return tuple(
        int(n) for n in torch.randint(1, 6, (int(torch.randint(0, 4, (1,), generator=generator)),), generator=generator)
    )


def test_mse_behaves_the_same(ours):
    generator = torch.Generator().manual_seed(1)
    for _ in range(20):
        shape = _random_shape(generator)
        y_true = torch.randn(shape, generator=generator)
        pred_a = torch.randn(shape, generator=generator, requires_grad=True)
        pred_b = pred_a.detach().clone().requires_grad_(True)
        out_a, out_b = ours["mse"](pred_a, y_true), reference.mse(pred_b, y_true)
        assert torch.equal(out_a, out_b)
        out_a.backward()
        out_b.backward()
        assert torch.equal(pred_a.grad, pred_b.grad)


def test_sgd_step_behaves_the_same(ours):
    generator = torch.Generator().manual_seed(2)
    for _ in range(20):
        lr = float(torch.rand(1, generator=generator))
        params_a = [torch.randn(_random_shape(generator), generator=generator).requires_grad_() for _ in range(3)]
        params_b = [p.detach().clone().requires_grad_() for p in params_a]
        for p, q in zip(params_a, params_b, strict=True):
            if torch.rand(1, generator=generator) < 0.7:
                p.grad = torch.randn(p.shape, generator=generator)
                q.grad = p.grad.clone()
        assert ours["sgd_step"](params_a, lr) is None and reference.sgd_step(params_b, lr) is None
        for p, q in zip(params_a, params_b, strict=True):
            assert torch.equal(p, q) and p.grad_fn is None
            assert (p.grad is None and q.grad is None) or torch.equal(p.grad, q.grad)


def test_train_behaves_the_same(ours):
    generator = torch.Generator().manual_seed(3)
    for seed in range(5):
        n = int(torch.randint(5, 200, (1,), generator=generator))
        x = torch.randn(n, 1, generator=generator)
        y = 3 * x[:, 0] - 1 + torch.randn(n, generator=generator)
        lr = float(torch.rand(1, generator=generator)) * 0.2
        model_a, model_b = make_model(seed), make_model(seed)
        losses_a = ours["train"](model_a, x, y, 25, lr)
        losses_b = reference.train(model_b, x, y, 25, lr)
        assert losses_a == losses_b
        for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
            assert torch.equal(p, q)


def test_loss_landscape_behaves_the_same(ours):
    generator = torch.Generator().manual_seed(4)
    for _ in range(20):
        n = int(torch.randint(1, 50, (1,), generator=generator))
        x, y = torch.randn(n, generator=generator), torch.randn(n, generator=generator)
        shape = _random_shape(generator)
        a_grid, b_grid = torch.randn(shape, generator=generator), torch.randn(shape, generator=generator)
        assert torch.equal(ours["loss_landscape"](x, y, a_grid, b_grid), reference.loss_landscape(x, y, a_grid, b_grid))


FUNCTIONS = [
    lambda a, b: (3 * a**3 - b**2).sum(),
    lambda a, b: (a.sin() * b.exp()).sum(),
    lambda a, b: (a**2).sum() * b.cos().mean(),
]


@pytest.mark.parametrize("f", FUNCTIONS)
def test_gradients_behaves_the_same(ours, f):
    generator = torch.Generator().manual_seed(5)
    for shape in [(1,), (3, 2), (4,), ()]:
        a = torch.randn(shape, generator=generator)
        b = torch.randn(shape, generator=generator, requires_grad=True)
        mine, theirs = ours["gradients"](f, a, b), reference.gradients(f, a, b)
        assert type(mine) is tuple and len(mine) == len(theirs) == 2
        for g, h in zip(mine, theirs, strict=True):
            assert torch.equal(g, h) and not g.requires_grad
        assert a.grad is None and b.grad is None and not a.requires_grad and b.requires_grad


def test_gradients_of_the_lesson_function(ours):
    grad_a, grad_b = ours["gradients"](lambda a, b: 3 * a**3 - b**2, torch.tensor([4.0]), torch.tensor([2.0]))
    assert torch.equal(grad_a, torch.tensor([144.0])) and torch.equal(grad_b, torch.tensor([-4.0]))
