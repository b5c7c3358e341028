"""The line-fit data set and model, made the same way everywhere: in the notebook, its tests and the grader.

Seeds and sizes live here as defaults so that every place that says "the seed data" means the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SEED = 42  # the lesson's seed: gives a = -0.501840, b = 1.802857
N_SAMPLES = 5000  # enough points that the least-squares line sits close to the true one


@dataclass(frozen=True, eq=False)
class LineData:
    """Noisy samples of the line y = a * x + b.

    x, y_noisy and y_true are float32 arrays of one length; a and b are the true slope and intercept.
    """

    x: np.ndarray
    y_noisy: np.ndarray
    y_true: np.ndarray
    a: float
    b: float

    def __repr__(self) -> str:
        return f"LineData(a={self.a:.6f}, b={self.b:.6f}, n_samples={len(self.x)})"


def make_line_data(seed: int = SEED, n_samples: int = N_SAMPLES) -> LineData:
    """The lesson's data: a, b ~ U(-2, 2), x evenly spaced on [-pi, pi], y = a * x + b + N(0, 1) noise.

    Draws the same numbers as the seed notebook's np.random.seed(seed) followed by np.random.uniform and
    np.random.normal, from a private RandomState, so NumPy's global random state is left alone.
    """
    rng = np.random.RandomState(seed)
    # Python floats, not NumPy float64 scalars: under NumPy 2's promotion rules (NEP 50) a float64 scalar
    # would turn the float32 x into float64.
    a, b = (float(v) for v in rng.uniform(low=-2.0, high=2.0, size=2))
    x = np.linspace(-np.pi, np.pi, n_samples, dtype=np.float32)
    y_true = a * x + b
    noise = rng.normal(size=y_true.shape).astype(np.float32)
    y_noisy = y_true + noise
    return LineData(x=x, y_noisy=y_noisy, y_true=y_true, a=a, b=b)


def to_tensors(data: LineData) -> tuple[torch.Tensor, torch.Tensor]:
    """The data as the model wants it: x of shape (N, 1), one feature per sample, and y of shape (N,).

    The tensors are copies, so training code may change them without touching the data set.
    """
    xx = torch.tensor(data.x, dtype=torch.float32).unsqueeze(-1)
    yy = torch.tensor(data.y_noisy, dtype=torch.float32)
    return xx, yy


def make_model(seed: int = SEED) -> torch.nn.Sequential:
    """The lesson's model, y = w * x + b, initialised as after torch.manual_seed(seed).

    Flatten(0, 1) turns the (N, 1) output of Linear(1, 1) into (N,), the shape of y. Torch's global random
    state is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Flatten(0, 1))
