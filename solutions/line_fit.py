"""Reference solutions for the line_fit assignment: the one truth the hidden tests compare against.

The source notebook's solution regions hold the same code; tests/test_solutions_match_notebook.py proves
the two behave the same. Never shipped to students.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch


def mse(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    """Mean of the squared differences of two tensors of the same shape, any shape: a 0-dim tensor
    that autograd can differentiate with respect to y_pred."""
    return ((y_pred - y_true) ** 2).mean()


def sgd_step(params: Iterable[torch.Tensor], lr: float) -> None:
    """One plain gradient-descent step, in place: p <- p - lr * p.grad for every p whose .grad is not
    None. Records no autograd history and leaves .grad as it is: zeroing gradients is the training
    loop's job, as with torch.optim."""
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad


def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, n_steps: int, lr: float) -> list[float]:
    """Full-batch gradient descent on mse for n_steps steps using mse and sgd_step. Each step:
    forward, loss, zero the gradients, backward, sgd_step. Returns the n_steps losses as Python
    floats, each the loss before that step's update."""
    losses = []
    for _ in range(n_steps):
        loss = mse(model(x), y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        sgd_step(model.parameters(), lr)
    return losses


def loss_landscape(x: torch.Tensor, y: torch.Tensor, a_grid: torch.Tensor, b_grid: torch.Tensor) -> torch.Tensor:
    """The mse of the line a*x + b on the data (x, y) for every (a, b) pair of the grid, without a Python
    loop: x and y are 1-D of the same length, a_grid and b_grid have the same shape (any shape, such as
    the output of torch.meshgrid), and the result has that shape too:
    result[i, j] = mean((a_grid[i, j] * x + b_grid[i, j] - y) ** 2)."""
    pred = a_grid.unsqueeze(-1) * x + b_grid.unsqueeze(-1)
    return ((pred - y) ** 2).mean(dim=-1)


def gradients(f: Callable[..., torch.Tensor], *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The gradient of the scalar f(*inputs) with respect to each input, computed by autograd: one
    tensor per input, of that input's shape. Leaves the inputs as they were (values, requires_grad and
    .grad) and returns tensors that carry no autograd history."""
    leaves = [t.detach().requires_grad_(True) for t in inputs]
    out = f(*leaves)
    grads = torch.autograd.grad(out, leaves)
    return tuple(g.detach() for g in grads)
