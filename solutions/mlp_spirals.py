"""Reference solutions for the mlp_spirals assignment: the one truth the hidden tests compare against.

The source notebook's solution regions hold the same code. train_epoch and evaluate call cross_entropy,
minibatches and accuracy by their global names, as the notebook's functions do, so that a test can give them
stand-ins. Never shipped to students.
"""

from __future__ import annotations

import torch


def make_mlp(n_in: int, n_hidden: list[int], n_out: int) -> torch.nn.Sequential:
    """A multi-layer perceptron: for each width in n_hidden a Linear layer to that width followed by a ReLU,
    then a last Linear layer to n_out outputs with nothing after it, all with PyTorch's default initialization.
    make_mlp(2, [64, 64], 3) is Sequential(Linear(2, 64), ReLU(), Linear(64, 64), ReLU(), Linear(64, 3));
    make_mlp(2, [], 3) is Sequential(Linear(2, 3))."""
    layers: list[torch.nn.Module] = []
    width = n_in
    for n in n_hidden:
        layers += [torch.nn.Linear(width, n), torch.nn.ReLU()]
        width = n
    layers.append(torch.nn.Linear(width, n_out))
    return torch.nn.Sequential(*layers)


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The mean over the batch of -log softmax(logits)[i, targets[i]]: logits of shape (N, C), targets the
    N class indices (int64). A 0-dim tensor of the logits' dtype that autograd can differentiate, computed
    with the log-sum-exp trick (subtract each row's largest logit first) so that it stays finite and exact
    for large logits. The inputs are left as they were."""
    shifted = logits - logits.detach().amax(dim=1, keepdim=True)
    log_sum_exp = shifted.exp().sum(dim=1).log()
    return (log_sum_exp - shifted[torch.arange(len(targets)), targets]).mean()


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """The fraction of rows whose largest logit is at the target class, as a Python float."""
    return (logits.argmax(dim=1) == targets).sum().item() / len(targets)


def minibatches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """The indices 0 .. n - 1 in a random order, torch.randperm(n, generator=generator), cut into consecutive
    batches of batch_size (the last one may be shorter): a list of 1-D int64 tensors."""
    order = torch.randperm(n, generator=generator)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def train_epoch(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One epoch of mini-batch training with cross_entropy: the model in training mode, then for each batch
    of minibatches(len(x), batch_size, generator): zero the gradients, loss on the batch, backward, optimizer
    step. Returns the epoch's mean loss over the samples (each batch's loss weighted by its size) as a
    Python float."""
    model.train()
    total = 0.0
    for idx in minibatches(len(x), batch_size, generator):
        optimizer.zero_grad()
        loss = cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(x)


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of the model on (x, y) as Python floats, computed in evaluation mode
    without recording autograd history; leaves the model in the mode it was in and no .grad changed."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = model(x)
            return cross_entropy(logits, y).item(), accuracy(logits, y)
    finally:
        model.train(was_training)
