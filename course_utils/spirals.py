"""The spiral data set of the second lesson (mlp_spirals), made the same way everywhere: in the notebook, its
tests and the grader.

Points of a few classes, each class on one arm of a spiral around the origin: the classic toy problem of the
Stanford course CS231n ("Minimal Neural Network Case Study"), which no straight line can split but a small
network with one or two hidden layers learns in seconds. Also here: the data as tensors, and a seeded split
into a training and a validation set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

SEED = 42  # the lesson's seed, as in part 1
N_PER_CLASS = 100  # 300 points for 3 classes: enough to see the spirals, quick to train on
N_CLASSES = 3
NOISE = 0.2  # standard deviation of the noise on each point's angle, in radians
ARM_RADIANS = 4.0  # how far each arm winds: from angle 4k to 4(k + 1) for class k, as in CS231n


@dataclass(frozen=True, eq=False)
class SpiralData:
    """Points on the arms of a spiral, one arm per class.

    x is a float32 array of shape (N, 2), one point (x1, x2) per row; y is an int64 array of shape (N,), the
    class of each point (0 to n_classes - 1), the classes one after the other. seed is the seed the data came
    from.
    """

    x: np.ndarray
    y: np.ndarray
    seed: int
    n_classes: int

    def __repr__(self) -> str:
        return f"SpiralData(seed={self.seed}, n_classes={self.n_classes}, n_samples={len(self.x)})"

    def __len__(self) -> int:
        return len(self.x)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The data as a model wants it: x, a float32 tensor of shape (N, 2), and y, the int64 class labels of
        shape (N,). The tensors are copies, so training code may change them without touching the data set."""
        return torch.tensor(self.x, dtype=torch.float32), torch.tensor(self.y, dtype=torch.int64)


def make_spirals(
    seed: int = SEED, n_per_class: int = N_PER_CLASS, n_classes: int = N_CLASSES, noise: float = NOISE
) -> SpiralData:
    """The classic spiral data: n_per_class points for each of n_classes classes.

    The points of class k sit on one arm of a spiral: their radius r goes evenly from 0 to 1 and their angle
    from 4k to 4(k + 1) radians, plus N(0, noise^2) noise, at (r sin(angle), r cos(angle)). The noise is drawn
    from np.random.default_rng(seed), one class after the other, so the same seed always gives the same data
    and NumPy's global random state is left alone.
    """
    if n_per_class < 1 or n_classes < 1:
        raise ValueError(f"n_per_class and n_classes must be at least 1, got {n_per_class} and {n_classes}")
    rng = np.random.default_rng(seed)
    radius = np.linspace(0.0, 1.0, n_per_class)
    xs, ys = [], []
    for k in range(n_classes):
        angle = np.linspace(ARM_RADIANS * k, ARM_RADIANS * (k + 1), n_per_class)
        angle = angle + noise * rng.standard_normal(n_per_class)
        xs.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        ys.append(np.full(n_per_class, k))
    x = np.concatenate(xs).astype(np.float32)
    y = np.concatenate(ys).astype(np.int64)
    return SpiralData(x=x, y=y, seed=int(seed), n_classes=int(n_classes))


def train_val_split(
    x: Any, y: Any, val_fraction: float = 0.2, seed: int = SEED
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split the samples at random into a training and a validation set: (x_train, y_train, x_val, y_val).

    x and y are tensors (or arrays) with one sample per row. The samples are shuffled by
    torch.randperm with a generator seeded with `seed` (torch's global random state is left alone); the
    first round(val_fraction * N) of them, at least one, form the validation set and the rest the training
    set. Every sample lands in exactly one of the two, and the tensors returned are new ones.
    """
    x = torch.as_tensor(x)
    y = torch.as_tensor(y)
    n = len(x)
    if len(y) != n:
        raise ValueError(f"x and y must have one row per sample, got {n} and {len(y)} rows")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    if n < 2:
        raise ValueError(f"need at least 2 samples to split, got {n}")
    n_val = min(max(round(val_fraction * n), 1), n - 1)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]
