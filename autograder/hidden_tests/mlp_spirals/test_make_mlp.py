"""Hidden tests of make_mlp: the layers of random configurations (no hidden layer included), default
initialisation, and the forward pass of the student's model with the reference's weights copied in.

Every layer's class is torch's own: the sandbox names classes by identity with torch's, so a home-made class
that calls itself torch.nn.Linear is named as what it is. A model that carries hooks or a forward of its own
is refused: what it computes is no longer what its layers say."""

import numpy as np
import pytest
import torch

from autograder.testkit import (
    expect,
    expect_close,
    expect_plain_model,
    expect_same_twice,
    expect_tensor,
    load_helpers,
    require_ok,
)

helpers = load_helpers(__file__)
pytestmark = pytest.mark.grades("make_mlp")

SEQUENTIAL = "torch.nn.modules.container.Sequential"
LINEAR, RELU = "torch.nn.modules.linear.Linear", "torch.nn.modules.activation.ReLU"
LOOK_ALIKE = "(not torch's own class)"  # how the sandbox marks a class that claims a torch name
ORDER = (
    "a Linear layer to each hidden width followed by a ReLU, then a last Linear layer to n_out and nothing after it."
)


def random_config(rng, least: int = 0) -> tuple[int, list[int], int]:
    """(n_in, n_hidden, n_out) with `least` to 3 hidden layers of distinct widths, all wider than n_in and n_out:
    a layer built to the wrong width (the first hidden one's, or n_in) never has the right shape by chance."""
    n_hidden = [int(n) for n in rng.choice(np.arange(6, 40), size=int(rng.integers(least, 4)), replace=False)]
    return int(rng.integers(1, 6)), n_hidden, int(rng.integers(2, 6))


def expected_layers(n_in: int, n_hidden: list[int], n_out: int) -> list[tuple[str, tuple, tuple]]:
    """(type, weight shape, bias shape) per layer, ReLUs with no parameters."""
    layers, width = [], n_in
    for n in n_hidden:
        layers += [(LINEAR, (n, width), (n,)), (RELU, None, None)]
        width = n
    return [*layers, (LINEAR, (n_out, width), (n_out,))]


def check_layers(value, n_in, n_hidden, n_out) -> None:
    what = f"make_mlp({n_in}, {n_hidden}, {n_out})"
    expect(
        value.kind == "module" and value.type_name == SEQUENTIAL,
        f"{what} should return a torch.nn.Sequential, but it returned {value.describe()}.",
        "use torch.nn.Sequential itself, not a class of your own."
        if (value.type_name or "").endswith(LOOK_ALIKE)
        else "collect the layers in a list, then wrap them all in one torch.nn.Sequential.",
    )
    expect_plain_model(
        value, f"the model of {what}", "return torch's layers as they are: no hooks, no forward of your own."
    )
    wanted = expected_layers(n_in, n_hidden, n_out)
    got = [kind.rsplit(".", 1)[-1] for _, kind in value.children]  # a look-alike: "Linear (not torch's own class)"
    names = [kind.rsplit(".", 1)[-1] for kind, _, _ in wanted]
    look_alike = any(kind.endswith(LOOK_ALIKE) for _, kind in value.children)
    expect(
        [kind for _, kind in value.children] == [kind for kind, _, _ in wanted],
        f"{what} has the layers {got}, expected {names}.",
        "use torch's own torch.nn.Linear and torch.nn.ReLU, not classes of your own." if look_alike else ORDER,
    )
    for (name, _), (_, weight, _) in zip(value.children, wanted, strict=True):
        if weight is None:
            continue
        w, b = value.fields.get(f"{name}.weight"), value.fields.get(f"{name}.bias")
        expect(
            w is not None and w.shape == weight,
            f"{what}: layer {name}'s weight should have shape {weight}, "
            f"but it is {'missing' if w is None else w.shape}.",
            "Linear(in_features, out_features): in, then out.",
        )
        expect(b is not None, f"{what}: layer {name} has no bias.", "keep the default bias=True of nn.Linear.")


@pytest.mark.points(1)
def test_layers_of_random_configurations(submission, rng):
    """Linear and ReLU layers in the right order and shapes for random configurations, the same when called twice"""
    for config in (random_config(rng, least=2), random_config(rng), (2, [], 3)):
        first = require_ok(submission.call("make_mlp", *config), "make_mlp")
        check_layers(first, *config)
        second = require_ok(submission.call("make_mlp", *config), "make_mlp")
        shapes = [(n, v.shape) for n, v in second.fields.items()]
        expect(
            [(n, v.shape) for n, v in first.fields.items()] == shapes and first.children == second.children,
            f"make_mlp{config} built a different model when called a second time.",
            "build a new model from the arguments on every call; keep nothing between calls.",
        )


@pytest.mark.points(1)
def test_forward_matches_the_reference_with_its_weights(submission, rng):
    """the model computes the reference's logits once the reference's weights are copied in"""
    for config in (random_config(rng, least=1), (int(rng.integers(1, 4)), [], int(rng.integers(2, 5)))):
        made = submission.call("make_mlp", *config, keep=True)
        check_layers(require_ok(made, "make_mlp"), *config)
        seed = int(rng.integers(2**31))
        reference = helpers.mlp(seed, *config)  # built here: make_mlp's process holds no builder of its answer
        weights = [parameter.detach().numpy() for parameter in reference.parameters()]
        copied = submission.call_helper("set_parameters", made.handle, weights)
        expect(copied.ok, f"the reference's weights could not be copied into make_mlp{config}: {copied.error}")
        x = rng.normal(size=(int(rng.integers(5, 30)), config[0])).astype(np.float32)
        results = [submission.call_handle(made.handle, x, label=f"the model of make_mlp{config}") for _ in range(2)]
        what = f"the logits of make_mlp{config} (with the reference's weights) on {len(x)} random points"
        actual = expect_tensor(require_ok(results[0], "the model"), what, shape=(len(x), config[2]))
        expected = reference(torch.from_numpy(x)).detach().double().numpy()
        expect_close(actual, expected, 1e-5, 1e-6, what, hint=ORDER)
        expect_same_twice(results[0].value, results[1].value, what)


@pytest.mark.points(1)
def test_default_initialisation_with_the_right_layers(submission, rng):
    """with the right layers: default initialisation (weights within ±1/sqrt(fan_in), different on every call)"""
    config = random_config(rng, least=1)
    first, second = (require_ok(submission.call("make_mlp", *config), "make_mlp") for _ in range(2))
    check_layers(first, *config)
    for name, parameter in first.fields.items():
        values = expect_tensor(parameter, f"make_mlp{config}'s {name}")
        fan_in = first.fields[name.replace("bias", "weight")].shape[1]
        bound = 1 / np.sqrt(fan_in)
        hint = "keep PyTorch's default initialisation: don't set the weights yourself."
        expect(
            np.all(np.abs(values) <= bound + 1e-6) and (np.unique(values).size > 1 or values.size == 1),
            f"make_mlp{config}'s {name} is not initialised the default way (within ±{bound:.3g}).",
            hint,
        )
        expect(
            not np.array_equal(values, second.fields[name].array) or values.size == 1,
            f"make_mlp{config}'s {name} is the same on every call: it should be freshly random.",
            hint,
        )
