"""Public tests for mse: run them from the notebook with check("mse"). The hidden tests decide the grade."""

import torch


def test_returns_a_scalar_tensor(student):
    """returns a 0-dim tensor (a single number)"""
    out = student(torch.zeros(4), torch.ones(4))
    assert isinstance(out, torch.Tensor), f"mse should return a torch.Tensor, not {type(out).__name__}"
    assert out.dim() == 0, f"mse should return a 0-dim tensor, got shape {tuple(out.shape)}: did you take the mean?"


def test_known_value(student):
    """mse([1, 2, 3], [1, 2, 5]) is (0 + 0 + 4) / 3"""
    out = student(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 5.0]))
    assert torch.isclose(out, torch.tensor(4.0 / 3.0)), f"expected 1.3333, got {float(out):.4f}"


def test_autograd_can_differentiate_it(student):
    """autograd finds the gradient with respect to y_pred"""
    y_pred = torch.tensor([1.0, 2.0], requires_grad=True)
    out = student(y_pred, torch.tensor([0.0, 0.0]))
    assert out.requires_grad, "the result carries no autograd history: compute it with torch operations"
    out.backward()
    # d/dy_pred of mean((y_pred - y)^2) is 2 * (y_pred - y) / n = [1, 2]
    assert torch.allclose(y_pred.grad, torch.tensor([1.0, 2.0])), (
        f"expected the gradient [1, 2], got {y_pred.grad.tolist()}"
    )
