"""Reference solution of __assignment__: what its hidden tests compare the students' functions with."""

import torch


def standardize(x: torch.Tensor) -> torch.Tensor:
    """Each column of x shifted to mean 0 and scaled to standard deviation 1."""
    return (x - x.mean(dim=0)) / x.std(dim=0)
