"""Sandbox helpers of mlp_spirals: what its hidden tests build inside the sandbox (models with weights from a
seed, optimizers over a kept model, seeded generators) and ask of a kept model (its predictions),
plus the known-good stand-ins for cross_entropy, accuracy and minibatches, so that train_epoch
and evaluate are graded on their own. The hidden tests import the same file (`load_helpers(__file__)`)
to build the same objects on the trusted side.

Each graded function's process gets this module without that function's answers: its stand-in, and the
builders STANDS_FOR names (mlp builds what make_mlp must return). See docs/authoring.md.
"""

import math

import torch

# Modules of course_utils whose functions do nothing while grading (figures, live plots, the public check()):
# the grade comes from the hidden tests, and drawing would only cost time.
INERT_MODULES = ("course_utils.plots", "course_utils.boundary", "course_utils.check")


def mlp(seed: int, n_in: int, n_hidden: list, n_out: int, training: bool = True) -> torch.nn.Sequential:
    """Linear layers with a ReLU after each hidden one, weights and biases drawn from a seed as PyTorch's
    default initialisation draws them (uniform within ±1/sqrt(fan_in))."""
    generator = torch.Generator().manual_seed(seed)
    layers, width = [], n_in
    for n in [*n_hidden, n_out]:
        layer = torch.nn.Linear(width, n)
        bound = 1 / math.sqrt(width)
        with torch.no_grad():
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
        layers += [layer, torch.nn.ReLU()]
        width = n
    model = torch.nn.Sequential(*layers[:-1])
    return model.train(training)


def with_grads(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """The model with a .grad on every parameter (drawn from a seed), as after a backward()."""
    generator = torch.Generator().manual_seed(seed)
    for parameter in model.parameters():
        parameter.grad = torch.randn(parameter.shape, generator=generator)
    return model


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def optimizer(model: torch.nn.Module, kind: str, lr: float) -> torch.optim.Optimizer:
    """SGD or Adam over the model's parameters."""
    return {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[kind](model.parameters(), lr=lr)


def set_parameters(target: torch.nn.Module, values: list) -> None:
    """Copy the given tensors (the grader's reference weights) into the target's parameters, in order."""
    with torch.no_grad():
        for to, value in zip(target.parameters(), values, strict=True):
            to.copy_(value)


def predict(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The model's class for each row of x, without autograd, in eval mode (the mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(x).argmax(dim=1)
    finally:
        model.train(was_training)


def good_cross_entropy(logits, targets):
    return torch.nn.functional.cross_entropy(logits, targets)


def good_accuracy(logits, targets):
    return (logits.argmax(dim=1) == targets).double().mean().item()


def good_minibatches(n, batch_size, generator):
    return list(torch.randperm(n, generator=generator).split(batch_size))


STAND_INS = {"cross_entropy": good_cross_entropy, "accuracy": good_accuracy, "minibatches": good_minibatches}


class RecordingSequential(torch.nn.Sequential):
    """A Sequential that records, at each forward, whether autograd was recording and whether any of its
    modules was in training mode: rows (grad enabled, training) of 0/1 in its buffer `forward_modes`, which
    the sandbox describes with the model. For grading evaluate's contract (eval mode, no autograd)."""

    def forward(self, x):
        mode = [float(torch.is_grad_enabled()), float(any(m.training for m in self.modules()))]
        with torch.inference_mode(False), torch.no_grad():
            self.forward_modes = torch.cat([self.forward_modes.clone(), torch.tensor([mode], dtype=torch.float64)])
        return super().forward(x)


def recording_mlp(seed: int, n_in: int, n_hidden: list, n_out: int, training: bool = True) -> torch.nn.Module:
    """mlp(...), the same layers and weights, as a RecordingSequential with no forward recorded yet."""
    model = RecordingSequential(*mlp(seed, n_in, n_hidden, n_out).children())
    model.register_buffer("forward_modes", torch.zeros((0, 2), dtype=torch.float64), persistent=False)
    return model.train(training)


# Builders of what a graded function must return: withheld from its process (see docs/authoring.md).
STANDS_FOR = {"mlp": "make_mlp", "recording_mlp": "make_mlp"}
