"""Public tests for minibatches: run them from the notebook with check("minibatches"). The hidden tests decide
the grade."""

import torch


def test_randperm_cut_into_batches(student):
    """the order of torch.randperm(10, generator=...), cut into batches of 4, 4 and 2"""
    batches = student(10, 4, torch.Generator().manual_seed(0))
    expected = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    assert isinstance(batches, list), f"minibatches should return a list, not {type(batches).__name__}"
    assert [len(b) for b in batches] == [4, 4, 2], f"expected batch sizes [4, 4, 2], got {[len(b) for b in batches]}"
    assert torch.equal(torch.cat(batches), expected), (
        f"expected the order {expected.tolist()}, got {torch.cat(batches).tolist()}: "
        "use torch.randperm(n, generator=generator)"
    )


def test_batches_are_int64_tensors(student):
    """each batch is a 1-D int64 tensor, and every index is used once"""
    batches = student(7, 3, torch.Generator().manual_seed(1))
    assert all(isinstance(b, torch.Tensor) and b.dim() == 1 and b.dtype == torch.int64 for b in batches), (
        "each batch should be a 1-D int64 tensor"
    )
    assert sorted(torch.cat(batches).tolist()) == list(range(7)), "every index 0..6 should appear exactly once"


def test_uses_the_generator_only(student):
    """the same seed gives the same batches, and torch's global random state is left alone"""
    torch.manual_seed(3)
    expected_next = torch.rand(1)
    torch.manual_seed(3)
    first = student(12, 5, torch.Generator().manual_seed(7))
    assert torch.equal(torch.rand(1), expected_next), "minibatches used torch's global random state"
    second = student(12, 5, torch.Generator().manual_seed(7))
    same = len(first) == len(second) and all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert same, "the same seed should give the same batches"
