"""Public tests for train: run them from the notebook with check("train"). train uses your mse and
sgd_step, so check those first. The hidden tests decide the grade."""

import numpy as np
import torch

from course_utils import make_line_data, make_model, to_tensors


def _seed_data():
    data = make_line_data(seed=42)
    xx, yy = to_tensors(data)
    return data, xx, yy


def test_returns_one_float_per_step(student):
    """returns a list of n_steps Python floats"""
    _, xx, yy = _seed_data()
    losses = student(make_model(seed=42), xx, yy, 5, 0.1)
    assert isinstance(losses, list), f"train should return a list, not {type(losses).__name__}"
    assert len(losses) == 5, f"expected 5 losses for 5 steps, got {len(losses)}"
    assert all(type(v) is float for v in losses), "each loss should be a Python float: use loss.item()"


def test_first_loss_is_before_any_update(student):
    """the first loss is the loss of the untrained model"""
    _, xx, yy = _seed_data()
    model = make_model(seed=42)
    with torch.no_grad():
        expected = torch.nn.functional.mse_loss(model(xx), yy).item()
    losses = student(model, xx, yy, 3, 0.1)
    assert abs(losses[0] - expected) < 1e-4 * expected, (
        f"expected {expected:.4f} first, got {losses[0]:.4f}: record the loss before the update"
    )


def test_reaches_the_best_line(student):
    """100 steps at lr 0.1 on the seed data reach the least-squares line"""
    data, xx, yy = _seed_data()
    model = make_model(seed=42)
    losses = student(model, xx, yy, 100, 0.1)
    assert losses[-1] < losses[0], "the loss did not go down"
    best_a, best_b = np.polyfit(data.x.astype(np.float64), data.y_noisy.astype(np.float64), deg=1)
    a, b = (p.item() for p in model.parameters())
    assert abs(a - best_a) < 1e-3 and abs(b - best_b) < 1e-3, (
        f"expected a = {best_a:.4f}, b = {best_b:.4f}, got a = {a:.4f}, b = {b:.4f}"
    )
