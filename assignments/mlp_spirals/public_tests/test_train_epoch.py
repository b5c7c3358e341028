"""Public tests for train_epoch: run them from the notebook with check("train_epoch"). train_epoch uses your
minibatches and cross_entropy, so check those first. The hidden tests decide the grade."""

import torch

from course_utils import make_spirals


def _inputs(n, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=generator), torch.randint(0, 3, (n,), generator=generator)


def _model(seed=0):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


class CountingSGD(torch.optim.SGD):
    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1
        return super().step(closure)


def test_one_step_per_batch_in_training_mode(student):
    """one optimizer step per batch (10 samples in batches of 4: 3 steps), the model in training mode"""
    model = _model()
    model.eval()
    optimizer = CountingSGD(model.parameters(), lr=0.1)
    x, y = _inputs(10, seed=5)
    loss = student(model, x, y, optimizer, 4, torch.Generator().manual_seed(0))
    assert type(loss) is float, f"train_epoch should return a Python float, not {type(loss).__name__}"
    assert optimizer.steps == 3, f"expected 3 optimizer steps (batches of 4, 4 and 2), got {optimizer.steps}"
    assert model.training, "the model should be in training mode: call model.train()"


def test_mean_loss_over_the_samples(student):
    """with lr 0 the model does not change, and the epoch's loss is the loss on all the samples"""
    model = _model(1)
    x, y = _inputs(10, seed=6)
    with torch.no_grad():
        expected = torch.nn.functional.cross_entropy(model(x), y).item()
    loss = student(model, x, y, torch.optim.SGD(model.parameters(), lr=0.0), 4, torch.Generator().manual_seed(0))
    assert abs(loss - expected) < 1e-5, (
        f"expected {expected:.5f}, got {loss:.5f}: weight each batch's loss by its number of samples"
    )


def test_same_steps_as_the_loop_described(student):
    """with SGD the parameters end where the loop described in the notebook takes them"""
    x, y = _inputs(20, seed=7)
    model, by_hand = _model(2), _model(2)
    student(model, x, y, torch.optim.SGD(model.parameters(), lr=0.5), 8, torch.Generator().manual_seed(4))
    optimizer = torch.optim.SGD(by_hand.parameters(), lr=0.5)
    order = torch.randperm(20, generator=torch.Generator().manual_seed(4))
    for idx in order.split(8):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(by_hand(x[idx]), y[idx]).backward()
        optimizer.step()
    assert all(
        torch.allclose(p, q, atol=1e-5) for p, q in zip(model.parameters(), by_hand.parameters(), strict=True)
    ), "the parameters differ from the loop's: zero the gradients before each batch, and step once per batch"


def test_learns_the_spirals(student):
    """20 epochs with Adam on the spirals get most points right"""
    x, y = make_spirals(seed=0).tensors()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        layers = [
            torch.nn.Linear(2, 64),
            torch.nn.ReLU(),
            torch.nn.Linear(64, 64),
            torch.nn.ReLU(),
            torch.nn.Linear(64, 3),
        ]
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(0)
    losses = [student(model, x, y, optimizer, 32, generator) for _ in range(20)]
    assert losses[-1] < losses[0], f"the loss did not go down: {losses[0]:.4f} first, {losses[-1]:.4f} last"
    with torch.no_grad():
        right = (model(x).argmax(dim=1) == y).float().mean().item()
    assert right > 0.9, f"expected more than 90% of the points right after 20 epochs, got {right:.1%}"
