"""Public tests for accuracy: run them from the notebook with check("accuracy"). The hidden tests decide the
grade."""

import torch

LOGITS = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [0.0, 1.0, 0.0]])


def test_returns_a_python_float(student):
    """returns a Python float, not a tensor"""
    out = student(LOGITS, torch.tensor([0, 1, 2, 1]))
    assert type(out) is float, f"accuracy should return a Python float, not {type(out).__name__}: use .item()"


def test_known_values(student):
    """the fraction of rows whose largest logit is at the target"""
    assert student(LOGITS, torch.tensor([0, 1, 2, 1])) == 1.0, "every row is right here: expected 1.0"
    out = student(LOGITS, torch.tensor([0, 1, 0, 2]))
    assert abs(out - 0.5) < 1e-9, f"rows 0 and 1 are right, rows 2 and 3 wrong: expected 0.5, got {out}"
    out = student(LOGITS[:3], torch.tensor([1, 1, 1]))
    assert abs(out - 1 / 3) < 1e-6, f"expected 1/3, got {out}"
