"""Public tests for gradients: run them from the notebook with check("gradients"). The hidden tests decide
the grade."""

import torch


def lesson_function(a, b):
    return 3 * a**3 - b**2


def test_lesson_function_at_4_2(student):
    """y = 3a^3 - b^2 at a = 4, b = 2 has gradients 9a^2 = 144 and -2b = -4"""
    grads = student(lesson_function, torch.tensor([4.0]), torch.tensor([2.0]))
    assert len(grads) == 2, f"expected one gradient per input (2), got {len(grads)}"
    grad_a, grad_b = grads
    assert torch.allclose(grad_a, torch.tensor([144.0])), f"expected [144.0] for a, got {grad_a.tolist()}"
    assert torch.allclose(grad_b, torch.tensor([-4.0])), f"expected [-4.0] for b, got {grad_b.tolist()}"


def test_shapes_and_no_history(student):
    """one plain tensor per input, of that input's shape"""
    a, b = torch.ones(2, 3), torch.ones(4)
    grads = student(lambda a, b: a.sum() * b.sum(), a, b)
    assert isinstance(grads, tuple), f"gradients should return a tuple, not {type(grads).__name__}"
    assert [tuple(g.shape) for g in grads] == [(2, 3), (4,)], (
        f"expected shapes [(2, 3), (4,)], got {[tuple(g.shape) for g in grads]}"
    )
    assert not any(g.requires_grad for g in grads), "the gradients should carry no autograd history"


def test_inputs_left_alone(student):
    """leaves the inputs as they were: no .grad, requires_grad unchanged"""
    a = torch.tensor([1.0, 2.0])
    b = torch.tensor([3.0], requires_grad=True)
    student(lambda a, b: (3 * a**3).sum() - (b**2).sum(), a, b)
    assert not a.requires_grad, "an input that did not require grad now does"
    assert b.requires_grad, "an input that required grad no longer does"
    assert a.grad is None and b.grad is None, "the inputs got a .grad: use torch.autograd.grad, not .backward()"
    assert torch.equal(a, torch.tensor([1.0, 2.0])), "an input's values changed"
