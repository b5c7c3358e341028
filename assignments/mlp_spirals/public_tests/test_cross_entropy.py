"""Public tests for cross_entropy: run them from the notebook with check("cross_entropy"). The hidden tests
decide the grade."""

import math

import torch


def test_returns_a_scalar_tensor(student):
    """returns a 0-dim tensor of the logits' dtype"""
    out = student(torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]))
    assert isinstance(out, torch.Tensor), f"cross_entropy should return a torch.Tensor, not {type(out).__name__}"
    assert out.dim() == 0, f"expected a 0-dim tensor, got shape {tuple(out.shape)}: did you take the mean?"
    out64 = student(torch.zeros(2, 3, dtype=torch.float64), torch.tensor([0, 1]))
    assert out64.dtype == torch.float64, f"float64 logits should give a float64 loss, got {out64.dtype}"


def test_known_values(student):
    """equal logits give log 3; matches torch.nn.functional.cross_entropy on a small batch"""
    out = student(torch.zeros(2, 3), torch.tensor([0, 2]))
    assert math.isclose(out.item(), math.log(3), rel_tol=1e-6), f"expected log 3 = 1.0986, got {out.item():.4f}"
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0], [1.0, 1.0, 4.0]])
    targets = torch.tensor([0, 2, 2])
    expected = torch.nn.functional.cross_entropy(logits, targets).item()
    out = student(logits, targets)
    assert math.isclose(out.item(), expected, rel_tol=1e-5), f"expected {expected:.6f}, got {out.item():.6f}"


def test_large_logits(student):
    """logits of +-1e4 give the exact answers 0 and 20000, not nan or inf: use the log-sum-exp trick"""
    logits = torch.tensor([[1e4, 0.0, -1e4]])
    right = student(logits, torch.tensor([0])).item()
    wrong = student(logits, torch.tensor([2])).item()
    assert math.isfinite(right) and math.isfinite(wrong), (
        f"got {right} and {wrong}: subtract each row's largest logit before exp"
    )
    assert abs(right) < 1e-6 and math.isclose(wrong, 2e4, rel_tol=1e-6), f"expected 0 and 20000, got {right}, {wrong}"


def test_gradient_and_inputs_left_alone(student):
    """autograd gives (softmax - onehot) / N, and the inputs are not changed"""
    logits = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], requires_grad=True)
    targets = torch.tensor([2, 1])
    out = student(logits, targets)
    assert out.requires_grad, "the result carries no autograd history: compute it with torch operations"
    out.backward()
    onehot = torch.nn.functional.one_hot(targets, 3).float()
    expected = (torch.softmax(logits.detach(), dim=1) - onehot) / 2
    assert torch.allclose(logits.grad, expected, atol=1e-6), f"expected the gradient {expected.tolist()}"
    assert torch.equal(logits.detach(), torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])), "the logits changed"
    assert torch.equal(targets, torch.tensor([2, 1])), "the targets changed"
