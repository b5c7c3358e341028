"""Public tests for sgd_step: run them from the notebook with check("sgd_step"). The hidden tests decide
the grade."""

import torch


def _parameter(values, grad):
    p = torch.tensor(values, requires_grad=True)
    p.grad = torch.tensor(grad)
    return p


def test_one_step_in_place(student):
    """p becomes p - lr * p.grad, in place"""
    p = _parameter([1.0, 2.0], [0.5, -1.0])
    same_object = p
    student([p], 0.1)
    assert p is same_object
    assert torch.allclose(p.detach(), torch.tensor([0.95, 2.1])), (
        f"expected [0.95, 2.1], got {p.detach().tolist()}: change each parameter in place (p -= ...)"
    )


def test_keeps_parameters_trainable(student):
    """leaves requires_grad on, records no history, and leaves .grad alone"""
    p = _parameter([1.0], [2.0])
    student([p], 0.5)
    assert p.requires_grad, "the parameter no longer requires grad"
    assert p.grad_fn is None, "the update was recorded by autograd: do it inside torch.no_grad()"
    assert torch.equal(p.grad, torch.tensor([2.0])), "sgd_step should leave .grad as it is"


def test_skips_parameters_without_gradient(student):
    """a parameter whose .grad is None is left unchanged"""
    p = _parameter([1.0], [1.0])
    q = torch.tensor([3.0], requires_grad=True)  # q.grad is None
    student([p, q], 0.1)
    assert torch.equal(q.detach(), torch.tensor([3.0])), "a parameter without a gradient should not change"
    assert torch.allclose(p.detach(), torch.tensor([0.9])), f"expected [0.9], got {p.detach().tolist()}"
