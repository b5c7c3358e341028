"""Public tests for loss_landscape: run them from the notebook with check("loss_landscape"). The hidden
tests decide the grade."""

import torch


def test_shape_follows_the_grid(student):
    """the result has the grid's shape"""
    x = torch.linspace(-1.0, 1.0, 5)
    y = 2 * x + 1
    a_grid, b_grid = torch.meshgrid(torch.linspace(0, 3, 4), torch.linspace(-1, 1, 3), indexing="xy")
    out = student(x, y, a_grid, b_grid)
    assert isinstance(out, torch.Tensor), f"loss_landscape should return a tensor, not {type(out).__name__}"
    assert out.shape == (3, 4), f"expected shape (3, 4) like the grid, got {tuple(out.shape)}"


def test_known_values(student):
    """zero loss on the true line, mean(y^2) at a = b = 0"""
    x = torch.tensor([0.0, 1.0, 2.0])
    y = torch.tensor([1.0, 3.0, 5.0])  # y = 2x + 1
    out = student(x, y, torch.tensor([[2.0, 0.0]]), torch.tensor([[1.0, 0.0]]))
    assert torch.allclose(out, torch.tensor([[0.0, 35.0 / 3.0]])), f"expected [[0.0, 11.6667]], got {out.tolist()}"


def test_any_grid_shape(student):
    """works on a 1-D list of (a, b) pairs too"""
    x = torch.tensor([0.0, 1.0])
    y = torch.tensor([0.0, 1.0])
    out = student(x, y, torch.tensor([1.0, 0.0, 2.0]), torch.tensor([0.0, 0.0, 0.0]))
    assert out.shape == (3,), f"expected shape (3,), got {tuple(out.shape)}"
    assert torch.allclose(out, torch.tensor([0.0, 0.5, 0.5])), f"expected [0.0, 0.5, 0.5], got {out.tolist()}"
