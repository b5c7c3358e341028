"""Hidden tests of train_epoch, always with known-good cross_entropy and minibatches standing in for the
student's, so that train_epoch is graded on its own: the mean loss it returns, where it leaves the model's
parameters and the optimizer's state (SGD and Adam), train mode, and learning the spirals with Adam."""

import numpy as np
import pytest
import torch

from autograder.testkit import (
    expect,
    expect_close,
    expect_number,
    expect_same_twice,
    helper,
    load_helpers,
    require_ok,
)
from course_utils.spirals import make_spirals
from solutions import mlp_spirals as ref

helpers = load_helpers(__file__)
pytestmark = pytest.mark.grades("train_epoch")

STAND_INS = ("cross_entropy", "minibatches")
ZERO_GRAD = "call optimizer.zero_grad() before each batch's backward(): gradients accumulate otherwise."
WEIGHTED = "weight each batch's loss by its size: sum(loss.item() * len(batch)) / len(x), not a mean of means."
LOOP = (
    "for each batch of minibatches(len(x), batch_size, generator): zero_grad, loss on x[idx], y[idx], backward, "
    "optimizer.step()."
)


def spirals(rng, n_per_class: int) -> tuple[np.ndarray, np.ndarray]:
    data = make_spirals(seed=int(rng.integers(2**31)), n_per_class=n_per_class)
    return data.x, data.y


def reference_train_epoch(model, x, y, optimizer, batch_size, generator) -> float:
    """The reference's train_epoch calling the very stand-ins the student's is given (torch's cross_entropy,
    randperm's split), so that both runs do the same float32 arithmetic: Adam divides by the root of tiny second
    moments, and the reference's own cross_entropy, rounded differently, moved a parameter by 3e-5 in one epoch."""
    saved = {name: getattr(ref, name) for name in STAND_INS}
    for name in STAND_INS:
        setattr(ref, name, helpers.STAND_INS[name])
    try:
        return ref.train_epoch(model, x, y, optimizer, batch_size, generator)
    finally:
        for name, fn in saved.items():
            setattr(ref, name, fn)


def reference_epoch(seed, config, x, y, kind, lr, batch_size, g_seed, epochs=1, training=True):
    """The reference's losses, model and optimizer after `epochs` epochs from the same start."""
    model = helpers.mlp(seed, *config, training=training)
    optimizer = helpers.optimizer(model, kind, lr)
    generator = torch.Generator().manual_seed(g_seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    losses = [reference_train_epoch(model, xt, yt, optimizer, batch_size, generator) for _ in range(epochs)]
    return losses, model, optimizer


def run_epoch(submission, seed, config, x, y, kind, lr, batch_size, g_seed, training=True):
    """One call of the student's train_epoch on a fresh model (weights from seed) and optimizer."""
    model = submission.call_helper("mlp", seed, *config, training, keep=True)
    expect(model.ok, f"the grader could not build the model: {model.error}")
    return submission.call(
        "train_epoch",
        model.handle,
        x,
        y,
        helper("optimizer", model.handle, kind, lr),
        batch_size,
        helper("generator", g_seed),
        stand_ins=STAND_INS,
    )


def setting(rng):
    x, y = spirals(rng, int(rng.integers(30, 80)))
    config = (2, [int(rng.integers(4, 17))], 3)
    batch_size = int(rng.integers(5, 40))
    return int(rng.integers(2**31)), config, x, y, batch_size, int(rng.integers(2**31))


def check_loss(result, expected: float, what: str, alternatives=()) -> float:
    actual = expect_number(require_ok(result, "train_epoch"), what)
    expect_close(actual, expected, 1e-4, 1e-6, what, alternatives=alternatives)
    return actual


def mistaken_losses(seed, config, x, y, kind, lr, batch_size, g_seed) -> list[tuple[float, str]]:
    """What two classic mistakes return, to recognise them."""
    model = helpers.mlp(seed, *config)
    optimizer = helpers.optimizer(model, kind, lr)
    generator = torch.Generator().manual_seed(g_seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    batch_losses = []
    for idx in ref.minibatches(len(x), batch_size, generator):
        optimizer.zero_grad()
        loss = ref.cross_entropy(model(xt[idx]), yt[idx])
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    return [
        (float(np.mean(batch_losses)), WEIGHTED),
        (batch_losses[-1], "return the epoch's mean loss, not the last batch's."),
    ]


@pytest.mark.points(1.5)
def test_loss_matches_the_reference(submission, rng):
    """returns the epoch's mean loss over samples as a Python float (SGD), the same when called twice"""
    seed, config, x, y, batch_size, g_seed = setting(rng)
    lr = float(rng.uniform(0.05, 0.5))
    expected = reference_epoch(seed, config, x, y, "sgd", lr, batch_size, g_seed)[0][0]
    what = f"train_epoch's loss on {len(x)} spiral points, batch size {batch_size}, SGD lr {lr:.3g}"
    typical = mistaken_losses(seed, config, x, y, "sgd", lr, batch_size, g_seed)
    first = run_epoch(submission, seed, config, x, y, "sgd", lr, batch_size, g_seed)
    check_loss(first, expected, what, typical)
    second = run_epoch(submission, seed, config, x, y, "sgd", lr, batch_size, g_seed)
    check_loss(second, expected, what + " (called a second time)", typical)
    expect_same_twice(first.value, second.value, what)
    expect(
        first.value.kind == "float",
        f"train_epoch should return a Python float, not {first.value.describe()}.",
        "add up loss.item() * len(idx), Python numbers, and divide by len(x); or call .item() on a total tensor.",
    )


def check_parameters(result, reference: torch.nn.Module, start: torch.nn.Module, what: str) -> None:
    """The student's model after the call against the reference's; `start` is where both began."""
    model = result.args_after[0]
    expect(model.kind == "module", f"the model given to train_epoch became {model.describe()}.")
    initial = dict(start.named_parameters())
    for name, parameter in reference.named_parameters():
        field = model.fields.get(name)
        expect(field is not None and field.array is not None, f"the model's {name} was replaced or removed.", LOOP)
        stuck = np.allclose(field.array, initial[name].detach().double().numpy())
        hint = "the parameters never changed: call optimizer.step() after each backward()." if stuck else LOOP
        expected = parameter.detach().double().numpy()
        expect_close(field.array, expected, 1e-4, 1e-5, f"{what}: the model's {name} afterwards", hint)


@pytest.mark.points(1.5)
def test_parameters_follow_the_reference(submission, rng):
    """with the right loss: the model's parameters end where the reference leaves them, with SGD and with Adam"""
    for kind, lr in (("sgd", float(rng.uniform(0.05, 0.5))), ("adam", float(rng.uniform(0.005, 0.05)))):
        seed, config, x, y, batch_size, g_seed = setting(rng)
        losses, model, _ = reference_epoch(seed, config, x, y, kind, lr, batch_size, g_seed)
        what = f"one epoch of train_epoch with {kind} (lr {lr:.3g}, batch size {batch_size})"
        result = run_epoch(submission, seed, config, x, y, kind, lr, batch_size, g_seed)
        check_loss(result, losses[0], f"{what}: the loss")
        check_parameters(result, model, helpers.mlp(seed, *config), what)


@pytest.mark.points(1)
def test_optimizer_state_follows_the_reference(submission, rng):
    """with the right loss: Adam's state (steps and moment estimates) is where the reference leaves it"""
    seed, config, x, y, batch_size, g_seed = setting(rng)
    lr = float(rng.uniform(0.005, 0.05))
    losses, _, optimizer = reference_epoch(seed, config, x, y, "adam", lr, batch_size, g_seed)
    what = f"one epoch of train_epoch with Adam (lr {lr:.3g}, batch size {batch_size})"
    result = run_epoch(submission, seed, config, x, y, "adam", lr, batch_size, g_seed)
    check_loss(result, losses[0], f"{what}: the loss")
    state = result.args_after[3]
    expect(state.kind == "optimizer", f"the optimizer given to train_epoch became {state.describe()}.")
    hint = "use the optimizer you are given: one optimizer.step() per batch, no new optimizer."
    per_parameter = state.state.fields.get("state")
    for index, expected in optimizer.state_dict()["state"].items():
        kept = per_parameter.fields.get(str(index)) if per_parameter is not None else None
        expect(kept is not None, f"{what}: the optimizer has no state for parameter {index}.", hint)
        for key in ("step", "exp_avg", "exp_avg_sq"):
            field = kept.fields.get(key)
            expect(field is not None and field.array is not None, f"{what}: the optimizer lost its {key}.", hint)
            expect_close(
                field.array,
                expected[key].double().numpy(),
                1e-4,
                1e-6,
                f"{what}: Adam's {key} of parameter {index}",
                hint,
            )


@pytest.mark.points(0.5)
def test_sets_train_mode(submission, rng):
    """with the right loss: a model given in eval mode is trained in train mode"""
    seed, config, x, y, batch_size, g_seed = setting(rng)
    losses, _, _ = reference_epoch(seed, config, x, y, "sgd", 0.1, batch_size, g_seed, training=False)
    result = run_epoch(submission, seed, config, x, y, "sgd", 0.1, batch_size, g_seed, training=False)
    check_loss(result, losses[0], "train_epoch's loss for a model given in eval mode")
    expect(
        result.args_after[0].training is True,
        "after train_epoch, a model given in eval mode is still in eval mode.",
        "call model.train() first: dropout or batch norm layers behave differently in training.",
    )


GRID = 60  # points per side of the decision-boundary picture


def grid_points(x: np.ndarray) -> tuple[np.ndarray, list[float], list[float]]:
    """A GRID x GRID lattice over the data with a margin, row by row from the bottom; and the box."""
    low, high = x.min(0) - 0.3, x.max(0) + 0.3
    xs, ys = np.linspace(low[0], high[0], GRID), np.linspace(low[1], high[1], GRID)
    points = np.array([(a, b) for b in ys for a in xs], dtype=np.float32)
    return points, [float(low[0]), float(high[0])], [float(low[1]), float(high[1])]


def trained_model(result, seed: int, config) -> torch.nn.Module | None:
    """A model on this side holding the parameters the student's model has after the call, or None if they were
    replaced or removed. Its predictions come from the grader's own forward, never from the student's model:
    a hook or a forward of the student's own cannot answer for it."""
    after = None if result is None or not result.args_after else result.args_after[0]
    if after is None or after.kind != "module":
        return None
    model = helpers.mlp(seed, *config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            field = after.fields.get(name)
            if field is None or field.array is None or field.array.shape != tuple(parameter.shape):
                return None
            parameter.copy_(torch.from_numpy(field.array))
    return model


def classes_of(model: torch.nn.Module | None, points: np.ndarray) -> np.ndarray | None:
    return None if model is None else helpers.predict(model, torch.from_numpy(points)).numpy()


def keep_evidence(evidence, x, y, student_grid, reference_grid, box, student_losses, reference_losses) -> None:
    """What the feedback page draws for train_epoch (see autograder/pages/evidence.py)."""
    data = {
        "type": "points",
        "x": [float(v) for v in x[:, 0]],
        "y": [float(v) for v in x[:, 1]],
        "classes": [int(c) for c in y],
        "role": "data",
    }
    figures = []
    if student_grid is not None:
        figures.append(
            {
                "title": "Your decision boundary",
                "equal_aspect": True,
                "alt": "your model's regions",
                "caption": "The class your trained model predicts everywhere, over the training points.",
                "layers": [{"type": "regions", **box, "classes": student_grid, "role": "student"}, data],
            }
        )
    figures.append(
        {
            "title": "The reference's decision boundary",
            "equal_aspect": True,
            "alt": "the reference's",
            "caption": "The reference model after the same 40 epochs from the same start.",
            "layers": [{"type": "regions", **box, "classes": reference_grid, "role": "reference"}, data],
        }
    )
    curves = [
        {
            "type": "line",
            "x": list(range(1, len(reference_losses) + 1)),
            "y": reference_losses,
            "role": "reference",
            "label": "reference",
        }
    ]
    if student_losses:
        curves.append(
            {
                "type": "line",
                "x": list(range(1, len(student_losses) + 1)),
                "y": student_losses,
                "role": "student",
                "label": "yours",
            }
        )
    figures.append(
        {
            "title": "Training loss per epoch",
            "xlabel": "epoch",
            "ylabel": "loss (cross-entropy)",
            "log_y": True,
            "layers": curves,
            "alt": "your loss curve and the reference's",
            "caption": "Your train_epoch's losses (dashed) against the reference's, same start and batches.",
        }
    )
    notes = (
        [] if student_grid is not None else ["Your train_epoch gave no trained model: only the reference's is drawn."]
    )
    evidence["train_epoch"] = {"figures": figures, "notes": notes}


PATH_EPOCHS = 5  # epochs whose losses must match the reference's to 1e-4: past them, float32 rounding grows
STEPS = "call optimizer.step() once per batch, on the optimizer you are given: the model learns only through it."


def reference_40_epochs(seed, config, x, y, g_seed):
    """The reference's 40 epochs of Adam (lr 0.01, batch 32): its loss and Adam's step count after each epoch,
    its model after the first epoch and at the end."""
    model = helpers.mlp(seed, *config)
    optimizer = helpers.optimizer(model, "adam", 0.01)
    generator = torch.Generator().manual_seed(g_seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    losses, steps, first = [], [], None
    for epoch in range(40):
        losses.append(reference_train_epoch(model, xt, yt, optimizer, 32, generator))
        steps.append(float(optimizer.state_dict()["state"][0]["step"]))
        if epoch == 0:
            first = helpers.mlp(seed, *config)
            helpers.set_parameters(first, list(model.parameters()))
    return losses, steps, first, model


def train_40_epochs(submission, x, y, seed, g_seed, config, results: list) -> None:
    """The student's train_epoch run 40 times on one kept model, optimizer and generator; each call's result is
    appended to `results` as it comes. A call that fails is a Mistake (require_ok), raised from here."""
    model = submission.call_helper("mlp", seed, *config, keep=True)
    optimizer = submission.call_helper("optimizer", model.handle, "adam", 0.01, keep=True)
    generator = submission.call_helper("generator", g_seed, keep=True)
    expect(model.ok and optimizer.ok and generator.ok, "the grader could not build the model and optimizer.")
    for _ in range(40):
        result = submission.call(
            "train_epoch", model.handle, x, y, optimizer.handle, 32, generator.handle, stand_ins=STAND_INS
        )
        results.append(result)
        require_ok(result, "train_epoch")


def loss_of(result) -> float:
    value = result.value if result.ok else None
    kinds = ("float", "int", "float_subclass")
    return float(value.value) if value is not None and value.kind in kinds else float("nan")


def adam_steps(result, count: int) -> list[float | None]:
    """Adam's step count for each of the model's `count` parameters after the call (None where it has none)."""
    state = result.args_after[3] if len(result.args_after) > 3 else None
    per_parameter = state.state.fields.get("state") if state is not None and state.kind == "optimizer" else None
    kept = per_parameter.fields if per_parameter is not None else {}
    steps = []
    for index in range(count):
        step = kept[str(index)].fields.get("step") if str(index) in kept else None
        steps.append(float(step.array.ravel()[0]) if step is not None and step.array is not None else None)
    return steps


def check_the_path(results, reference_losses, steps, first, seed, config, draw: int) -> None:
    """The run that reached the accuracy is the reference's: the losses of the first epochs, Adam's step count
    after every epoch, and the parameters after the first epoch."""
    what = f"train_epoch with Adam (lr 0.01, batch size 32) on 300 spiral points (draw {draw + 1})"
    for epoch in range(PATH_EPOCHS):
        check_loss(results[epoch], reference_losses[epoch], f"{what}: the loss of epoch {epoch + 1}")
    for epoch, (result, expected) in enumerate(zip(results, steps, strict=True)):
        found = adam_steps(result, len(list(first.parameters())))
        expect(
            all(step == expected for step in found),
            f"after epoch {epoch + 1} of {what}, Adam has taken {found[0] or 0:.0f} steps; it should have taken "
            f"{expected:.0f}, one per batch.",
            STEPS,
        )
    check_parameters(results[0], first, helpers.mlp(seed, *config), f"the first epoch of {what}")


@pytest.mark.points(1.5)
def test_learns_the_spirals_with_adam(submission, rng, evidence):
    """reaches 95% training accuracy in 40 epochs of Adam (lr 0.01, batch 32) on two spiral draws of 300 points

    On a hard draw, where the reference itself stays under 95%, within 3 points of the reference's accuracy. The
    accuracy is the grader's forward with the parameters the model ends with, and it pays only with the run that
    reached it: the reference's losses for the first epochs, its Adam steps, its parameters after the first epoch."""
    config = (2, [64, 64], 3)
    for draw in range(2):
        x, y = spirals(rng, 100)
        seed, g_seed = int(rng.integers(2**31)), int(rng.integers(2**31))
        reference_losses, steps, first, reference = reference_40_epochs(seed, config, x, y, g_seed)
        results = []
        try:
            train_40_epochs(submission, x, y, seed, g_seed, config, results)
        finally:
            if draw == 0:  # the pictures, whatever happened
                points, box_x, box_y = grid_points(x)
                ours = classes_of(reference, points)
                last = next((result for result in reversed(results) if result.ok), None)
                theirs = classes_of(trained_model(last, seed, config), points)
                grid = None if theirs is None else theirs.reshape(GRID, GRID).astype(int).tolist()
                keep_evidence(
                    evidence,
                    x,
                    y,
                    grid,
                    ours.reshape(GRID, GRID).astype(int).tolist(),
                    {"x": box_x, "y": box_y},
                    [loss_of(result) for result in results if result.ok],
                    reference_losses,
                )
        predicted = classes_of(trained_model(results[-1], seed, config), x)
        accuracy = 0.0 if predicted is None else float(np.mean(predicted == y))
        # A few draws are harder: the reference itself stays under 95% on about one in a hundred.
        reached = float(np.mean(classes_of(reference, x) == y))
        least = min(0.95, reached - 0.03)
        expect(
            accuracy >= least,
            f"after 40 epochs of train_epoch with Adam (lr 0.01, batch size 32) on 300 spiral "
            f"points (draw {draw + 1}), the model gets {100 * accuracy:.1f}% of them right; it should get at least "
            f"{100 * least:.1f}%.",
            LOOP,
        )
        check_the_path(results, reference_losses, steps, first, seed, config, draw)
