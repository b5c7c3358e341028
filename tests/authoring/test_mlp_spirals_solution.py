"""solutions/mlp_spirals.py against torch itself: the reference the hidden tests compare with must be right.

Oracles: the layers built by hand, torch.nn.functional.cross_entropy in float64 (logits up to +-1e4 included),
torch.randperm, a training loop written out with torch's own loss, and training on the spirals to a high accuracy.
The source notebook's solution cells are checked to be this same code, marked for nbgrader as the lesson says.
"""

import ast
import inspect
import math
import re

import nbformat
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from course_utils import make_spirals, train_val_split
from solutions import mlp_spirals as reference
from solutions.mlp_spirals import accuracy, cross_entropy, evaluate, make_mlp, minibatches, train_epoch
from tests.support import ROOT

NOTEBOOK = ROOT / "assignments" / "mlp_spirals" / "mlp_spirals.ipynb"
POINTS = {"make_mlp": 3, "cross_entropy": 4, "accuracy": 2, "minibatches": 3, "train_epoch": 6, "evaluate": 2}
SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.DOTALL | re.MULTILINE)

# ---------------------------------------------------------------------------------------------------------------
# make_mlp


def _layer_kinds(model):
    return [(type(m).__name__, getattr(m, "in_features", None), getattr(m, "out_features", None)) for m in model]


@pytest.mark.parametrize(
    ("n_in", "n_hidden", "n_out"), [(2, [64, 64], 3), (2, [], 3), (5, [7], 4), (3, [8, 6, 4], 2), (1, [1], 1)]
)
def test_make_mlp_is_linear_relu_layers_with_default_init(n_in, n_hidden, n_out):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = make_mlp(n_in, n_hidden, n_out)
        torch.manual_seed(0)
        layers, width = [], n_in
        for n in n_hidden:
            layers += [torch.nn.Linear(width, n), torch.nn.ReLU()]
            width = n
        by_hand = torch.nn.Sequential(*layers, torch.nn.Linear(width, n_out))
    assert type(model) is torch.nn.Sequential
    assert _layer_kinds(model) == _layer_kinds(by_hand)
    assert all(m.bias is not None for m in model if isinstance(m, torch.nn.Linear))
    for p, q in zip(model.parameters(), by_hand.parameters(), strict=True):
        assert torch.equal(p, q)
    assert model(torch.randn(6, n_in)).shape == (6, n_out)


def test_make_mlp_of_the_lesson():
    assert _layer_kinds(make_mlp(2, [64, 64], 3)) == [
        ("Linear", 2, 64),
        ("ReLU", None, None),
        ("Linear", 64, 64),
        ("ReLU", None, None),
        ("Linear", 64, 3),
    ]
    assert _layer_kinds(make_mlp(2, [], 3)) == [("Linear", 2, 3)]
    hidden = [64, 64]
    make_mlp(2, hidden, 3)
    assert hidden == [64, 64], "the list of widths was changed"


# ---------------------------------------------------------------------------------------------------------------
# cross_entropy


def _random_case(generator, dtype, scale):
    n = int(torch.randint(1, 40, (1,), generator=generator))
    c = int(torch.randint(1, 8, (1,), generator=generator))
    logits = (torch.rand(n, c, generator=generator, dtype=torch.float64) * 2 - 1) * scale
    targets = torch.randint(0, c, (n,), generator=generator)
    return logits.to(dtype), targets


@pytest.mark.parametrize("scale", [1.0, 10.0, 100.0, 1e3, 1e4])
def test_cross_entropy_equals_torch_in_float64(scale):
    generator = torch.Generator().manual_seed(int(scale))
    for _ in range(25):
        logits, targets = _random_case(generator, torch.float64, scale)
        before = logits.clone(), targets.clone()
        mine = logits.clone().requires_grad_(True)
        theirs = logits.clone().requires_grad_(True)
        out, expected = cross_entropy(mine, targets), F.cross_entropy(theirs, targets)
        assert out.dtype == torch.float64 and out.dim() == 0 and math.isfinite(out.item())
        torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12 * scale)
        out.backward()
        expected.backward()
        torch.testing.assert_close(mine.grad, theirs.grad, rtol=1e-10, atol=1e-12)
        assert torch.equal(logits, before[0]) and torch.equal(targets, before[1]), "the inputs changed"


def test_cross_entropy_at_plus_minus_1e4_is_exact():
    logits = torch.tensor([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]], dtype=torch.float64)
    targets = torch.tensor([0, 2, 1])
    per_row = [0.0, 2e4, math.log(2)]
    assert cross_entropy(logits, targets).item() == pytest.approx(sum(per_row) / 3, rel=1e-15)
    assert cross_entropy(logits, targets).item() == pytest.approx(F.cross_entropy(logits, targets).item(), rel=1e-15)
    for dtype in (torch.float32, torch.float64):
        out = cross_entropy(logits[:1].to(dtype), targets[:1])
        assert out.dtype == dtype and out.item() == 0.0 and math.copysign(1.0, out.item()) == 1.0


def test_cross_entropy_float32():
    generator = torch.Generator().manual_seed(7)
    for _ in range(25):
        logits, targets = _random_case(generator, torch.float32, 5.0)
        out = cross_entropy(logits, targets)
        assert out.dtype == torch.float32 and out.dim() == 0
        torch.testing.assert_close(out, F.cross_entropy(logits, targets))


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    logits = torch.randn(6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
    targets = torch.tensor([0, 3, 1, 1, 2, 0])
    cross_entropy(logits, targets).backward()
    expected = (torch.softmax(logits.detach(), dim=1) - F.one_hot(targets, 4)) / 6
    torch.testing.assert_close(logits.grad, expected, rtol=1e-12, atol=1e-15)
    assert torch.autograd.gradcheck(lambda z: cross_entropy(z, targets), (logits.detach().requires_grad_(True),))


# ---------------------------------------------------------------------------------------------------------------
# accuracy


def test_accuracy_is_the_fraction_of_argmax_hits():
    generator = torch.Generator().manual_seed(3)
    for _ in range(25):
        logits, targets = _random_case(generator, torch.float32, 3.0)
        out = accuracy(logits, targets)
        assert type(out) is float
        assert out == (logits.argmax(dim=1) == targets).sum().item() / len(targets)
    assert accuracy(torch.tensor([[0.0, 1.0], [2.0, 1.0], [0.0, 5.0]]), torch.tensor([1, 1, 1])) == 2 / 3


# ---------------------------------------------------------------------------------------------------------------
# minibatches


@pytest.mark.parametrize(("n", "batch_size"), [(300, 32), (10, 4), (8, 4), (5, 10), (1, 1), (0, 3), (17, 1)])
def test_minibatches_are_randperm_cut_into_chunks(n, batch_size):
    batches = minibatches(n, batch_size, torch.Generator().manual_seed(n))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(n))
    expected = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    assert type(batches) is list and len(batches) == len(expected) == math.ceil(n / batch_size)
    for mine, theirs in zip(batches, expected, strict=True):
        assert type(mine) is torch.Tensor and mine.dtype == torch.int64 and mine.dim() == 1
        assert torch.equal(mine, theirs)


def test_minibatches_advance_the_generator_like_randperm():
    mine, theirs = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    minibatches(50, 8, mine)
    torch.randperm(50, generator=theirs)
    assert torch.equal(torch.rand(3, generator=mine), torch.rand(3, generator=theirs))


# ---------------------------------------------------------------------------------------------------------------
# train_epoch


def _model(seed, hidden=(16,)):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make_mlp(2, list(hidden), 3)


def test_train_epoch_takes_the_steps_of_the_loop_written_out():
    x, y = make_spirals(seed=4, n_per_class=30).tensors()
    for optimizer_class, lr in ((torch.optim.SGD, 0.3), (torch.optim.Adam, 0.01)):
        mine, theirs = _model(1), _model(1)
        mine.eval()
        opt_mine, opt_theirs = optimizer_class(mine.parameters(), lr=lr), optimizer_class(theirs.parameters(), lr=lr)
        gen_mine, gen_theirs = torch.Generator().manual_seed(8), torch.Generator().manual_seed(8)
        for _ in range(3):
            loss = train_epoch(mine, x, y, opt_mine, 16, gen_mine)
            total = 0.0
            order = torch.randperm(len(x), generator=gen_theirs)
            for idx in order.split(16):
                opt_theirs.zero_grad()
                batch_loss = F.cross_entropy(theirs(x[idx]), y[idx])
                batch_loss.backward()
                opt_theirs.step()
                total += batch_loss.item() * len(idx)
            assert type(loss) is float and loss == pytest.approx(total / len(x), rel=1e-5)
            assert mine.training
        for p, q in zip(mine.parameters(), theirs.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


def test_train_epoch_loss_is_the_mean_over_samples():
    """lr 0 changes nothing, so the epoch's loss is the full-data loss, whatever the uneven batch sizes."""
    x, y = make_spirals(seed=2, n_per_class=11).tensors()  # 33 samples in batches of 10, 10, 10, 3
    model = _model(2)
    with torch.no_grad():
        expected = F.cross_entropy(model(x), y).item()
    loss = train_epoch(model, x, y, torch.optim.SGD(model.parameters(), lr=0.0), 10, torch.Generator().manual_seed(0))
    assert loss == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("seed", "n_per_class"), [(0, 100), (1, 150)])
def test_train_epoch_learns_the_spirals(seed, n_per_class):
    """make_mlp(2, [64, 64], 3), Adam lr 0.01, batches of 32: at least 95% of the training points right within 40
    epochs (the three points at the centre can never all be right)."""
    data = make_spirals(seed=seed, n_per_class=n_per_class)
    assert len(data) >= 300
    x, y = data.tensors()
    torch.manual_seed(seed)
    model = make_mlp(2, [64, 64], 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(seed)
    best = 0.0
    losses = []
    for _ in range(40):
        losses.append(train_epoch(model, x, y, optimizer, 32, generator))
        with torch.no_grad():
            best = max(best, (model(x).argmax(dim=1) == y).float().mean().item())
        if best >= 0.95:
            break
    assert best >= 0.95, f"training accuracy {best:.1%} after 40 epochs"
    assert losses[-1] < losses[0] < 1.2


def test_train_epoch_calls_the_graded_functions_by_their_global_names(monkeypatch):
    """The grader gives train_epoch and evaluate stand-ins for the functions they call: they must look them up."""
    calls = []

    def spy(name, function):
        def wrapped(*args, **kwargs):
            calls.append(name)
            return function(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(reference, "cross_entropy", spy("cross_entropy", F.cross_entropy))
    monkeypatch.setattr(reference, "minibatches", spy("minibatches", reference.minibatches))
    monkeypatch.setattr(reference, "accuracy", spy("accuracy", reference.accuracy))
    x, y = make_spirals(seed=0, n_per_class=10).tensors()
    model = _model(0)
    reference.train_epoch(model, x, y, torch.optim.SGD(model.parameters(), lr=0.1), 8, torch.Generator())
    assert calls == ["minibatches"] + ["cross_entropy"] * 4
    calls.clear()
    reference.evaluate(model, x, y)
    assert sorted(calls) == ["accuracy", "cross_entropy"]


# ---------------------------------------------------------------------------------------------------------------
# evaluate


@pytest.mark.parametrize("training", [True, False])
def test_evaluate_matches_torch_restores_the_mode_and_leaves_grads(training):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(32, 3))
    model.train(training)
    seen = []
    model.register_forward_hook(lambda module, args, out: seen.append((torch.is_grad_enabled(), module.training)))
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.25)
    x, y = make_spirals(seed=3, n_per_class=20).tensors()
    loss, acc = evaluate(model, x, y)
    assert type(loss) is float and type(acc) is float
    assert seen == [(False, False)], "one forward pass, without autograd, in evaluation mode"
    assert model.training == training and model[2].training == training
    assert all(torch.equal(p.grad, torch.full_like(p, 0.25)) for p in model.parameters())
    model.eval()
    with torch.no_grad():
        logits = model(x)
    assert loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
    assert acc == (logits.argmax(dim=1) == y).sum().item() / len(y)


def test_evaluate_on_a_validation_split():
    x, y = make_spirals(seed=5).tensors()
    x_train, y_train, x_val, y_val = train_val_split(x, y, 0.2, seed=5)
    torch.manual_seed(5)
    model = make_mlp(2, [64, 64], 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(5)
    for _ in range(30):
        train_epoch(model, x_train, y_train, optimizer, 32, generator)
    train_loss, train_acc = evaluate(model, x_train, y_train)
    val_loss, val_acc = evaluate(model, x_val, y_val)
    assert model.training
    assert train_acc >= 0.95 and val_acc >= 0.9 and train_loss < 0.2 and val_loss < 0.4


# ---------------------------------------------------------------------------------------------------------------
# The source notebook holds this same code


def test_source_notebook_cells_are_this_reference_and_marked_for_nbgrader():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    by_id = {cell.metadata["nbgrader"]["grade_id"]: (i, cell) for i, cell in enumerate(notebook.cells)}
    assert len(by_id) == len(notebook.cells), "every cell has nbgrader metadata and its own grade id"
    order = []
    for name, points in POINTS.items():
        index, solution = by_id[f"{name}_solution"]
        meta = solution.metadata["nbgrader"]
        assert (meta["solution"], meta["grade"], meta["locked"], meta["schema_version"]) == (True, False, False, 3)
        assert len(SOLUTION_REGION.findall(solution.source)) == 1
        code = SOLUTION_REGION.sub(lambda match: match.group(1), solution.source)
        assert ast.dump(ast.parse(code)) == ast.dump(ast.parse(inspect.getsource(getattr(reference, name))))
        test_index, test = by_id[f"test_{name}"]
        meta = test.metadata["nbgrader"]
        assert (meta["solution"], meta["grade"], meta["locked"], meta["points"]) == (False, True, True, points)
        assert test.source == f'check("{name}")' and test_index == index + 1
        order.append(index)
    assert order == sorted(order) and sum(POINTS.values()) == 20
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            assert cell.id.startswith("md_") and cell.metadata["nbgrader"]["locked"]
        else:
            assert cell.outputs == [] and cell.execution_count is None
        if not cell.metadata["nbgrader"]["solution"]:
            assert "BEGIN SOLUTION" not in cell.source
