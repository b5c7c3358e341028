"""Public tests for make_mlp: run them from the notebook with check("make_mlp"). The hidden tests decide the
grade."""

import torch


def _layers(model):
    return [type(layer).__name__ for layer in model]


def test_two_hidden_layers(student):
    """make_mlp(2, [64, 64], 3) is Linear(2, 64), ReLU, Linear(64, 64), ReLU, Linear(64, 3)"""
    model = student(2, [64, 64], 3)
    assert isinstance(model, torch.nn.Sequential), f"make_mlp should return a Sequential, not {type(model).__name__}"
    assert _layers(model) == ["Linear", "ReLU", "Linear", "ReLU", "Linear"], (
        f"expected Linear, ReLU, Linear, ReLU, Linear, got {', '.join(_layers(model))}"
    )
    sizes = [(layer.in_features, layer.out_features) for layer in model if isinstance(layer, torch.nn.Linear)]
    assert sizes == [(2, 64), (64, 64), (64, 3)], f"expected Linear sizes [(2, 64), (64, 64), (64, 3)], got {sizes}"


def test_no_hidden_layer(student):
    """make_mlp(2, [], 3) is a single Linear(2, 3), with no ReLU"""
    model = student(2, [], 3)
    assert isinstance(model, torch.nn.Sequential), f"make_mlp should return a Sequential, not {type(model).__name__}"
    assert _layers(model) == ["Linear"], f"expected a single Linear layer, got {', '.join(_layers(model)) or 'none'}"
    assert (model[0].in_features, model[0].out_features) == (2, 3)


def test_biases_outputs_and_default_initialization(student):
    """a bias in every Linear, logits of shape (N, n_out), PyTorch's default initialization"""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = student(5, [7], 4)
        torch.manual_seed(0)
        by_hand = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 4))
    assert all(layer.bias is not None for layer in model if isinstance(layer, torch.nn.Linear)), "a Linear has no bias"
    out = model(torch.randn(10, 5))
    assert out.shape == (10, 4), f"expected outputs of shape (10, 4), got {tuple(out.shape)}"
    assert (out < 0).any(), "no output is negative: is there a ReLU after the last layer?"
    mine = [tuple(p.shape) for p in model.parameters()]
    theirs = [tuple(p.shape) for p in by_hand.parameters()]
    assert mine == theirs, f"expected parameters of shapes {theirs}, got {mine}"
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), by_hand.parameters(), strict=True)), (
        "after the same seed the weights differ from Linear layers made in order: keep the default initialization"
    )
