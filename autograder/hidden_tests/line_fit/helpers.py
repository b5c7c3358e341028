"""Sandbox helpers of line_fit: what its hidden tests build inside the sandbox (the lesson's line model with
given parameters, polynomial functions for gradients) and the known-good stand-ins for mse and sgd_step, so
that train is graded on its own. The hidden tests import the same file (`load_helpers(__file__)`) to
build the same objects on the trusted side.

Each graded function's process gets this module without that function's answers (mse's process has no
good_mse, and, as mse has a stand-in of its own, no other function's either). See docs/authoring.md.
"""

import torch

# Modules of course_utils whose functions do nothing while grading (figures, live plots, the public check()):
# the grade comes from the hidden tests, and drawing would only cost time.
INERT_MODULES = ("course_utils.plots", "course_utils.check")


def line_model(weight: float, bias: float, dtype: str = "float32") -> torch.nn.Module:
    """The lesson's model, nn.Sequential(nn.Linear(1, 1), nn.Flatten(0, 1)), with the given parameters."""
    model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Flatten(0, 1)).to(getattr(torch, dtype))
    with torch.no_grad():
        model[0].weight.fill_(weight)
        model[0].bias.fill_(bias)
    return model


def polynomial(terms: list):
    """f(*xs) = sum over terms of coef * prod(x_i ** power_i), summed to a scalar; terms = [[coef, powers]]."""

    def f(*xs):
        total = 0
        for coef, powers in terms:
            term = coef
            for x, power in zip(xs, powers, strict=True):
                if power:
                    term = term * x**power
            total = total + term
        return total.sum()

    return f


def good_mse(y_pred, y_true):
    return torch.nn.functional.mse_loss(y_pred, y_true)


def good_sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad


STAND_INS = {"mse": good_mse, "sgd_step": good_sgd_step}
