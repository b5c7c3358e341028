"""Sandbox helpers of __assignment__: what its hidden tests build inside the sandbox, imported there by the
grader's sandbox and here by the hidden tests (`load_helpers(__file__)`), so both build the same objects.

Student code can read this module inside the sandbox: never put a solution, an expected answer or anything
else secret here.
"""

import torch

# Modules of course_utils whose functions do nothing while grading (figures, live plots, the public check()):
# the grade comes from the hidden tests, and drawing would only cost time.
INERT_MODULES = ("course_utils.check",)

# Known-good versions of graded functions, swapped in with `submission.call(..., stand_ins=("name",))` when a
# test grades a function that calls another graded function. This assignment has only one.
STAND_INS = {}


def random_matrix(seed: int, rows: int, cols: int, dtype: str = "float32") -> torch.Tensor:
    """A rows x cols tensor of normal numbers with column scales 1 to 100, from a seed."""
    generator = torch.Generator().manual_seed(seed)
    scales = torch.logspace(0, 2, cols, dtype=torch.float64)
    return (torch.randn(rows, cols, generator=generator, dtype=torch.float64) * scales).to(getattr(torch, dtype))
