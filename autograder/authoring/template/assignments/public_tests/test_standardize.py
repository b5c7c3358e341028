"""Public tests for standardize: run them from the notebook with check("standardize"). The hidden tests decide
the grade."""

import torch


def test_columns_have_mean_0_and_std_1(student):
    """every column of the result has mean 0 and standard deviation 1"""
    out = student(torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]))
    assert isinstance(out, torch.Tensor), f"standardize should return a torch.Tensor, not {type(out).__name__}"
    assert torch.allclose(out.mean(dim=0), torch.zeros(2), atol=1e-6), f"column means are {out.mean(dim=0).tolist()}"
    assert torch.allclose(out.std(dim=0), torch.ones(2)), f"column standard deviations are {out.std(dim=0).tolist()}"
