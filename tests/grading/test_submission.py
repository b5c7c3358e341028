"""The grader's client of a sandboxed notebook: calls, restarts after a crash, timeouts, stand-ins."""

from pathlib import Path

import numpy as np
import pytest

from autograder.course.limits import Limits
from autograder.grading.submission import Submission, student_where
from autograder.sandbox.answers import Helpers
from autograder.sandbox.launcher import Sandbox
from autograder.testkit.values import Handle, helper, spec_generator, spec_tensor

HELPERS = Helpers(Path(__file__).resolve().parents[1] / "support" / "sandbox_helpers.py")
MSE = "def mse(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).mean()\n"
LIMITS = Limits(call_seconds=1.0, cell_seconds=1.0, submission_seconds=30)


@pytest.fixture(scope="module")
def sandbox():
    """Overrides the shared fixture: a sandbox for the engine tests' own helpers module, no assignment's."""
    with Sandbox() as sandbox:
        yield sandbox


def run(sandbox, cells, *calls):
    submission = Submission(cells, sandbox, LIMITS, helpers=HELPERS)
    try:
        return submission, [submission.call(*call[0], **call[1]) for call in calls]
    finally:
        submission.close()


def test_values_and_gradients_come_back_as_data(sandbox):
    y_pred = spec_tensor(np.array([1.0, 2.0, 4.0]), "float32", requires_grad=True)
    _, (result,) = run(sandbox, ["import torch", MSE], (("mse", y_pred, np.zeros(3, np.float32)), {"backward": True}))
    assert result.ok and result.value.shape == () and result.value.dtype == "float32"
    assert result.value.array == pytest.approx(7.0)
    np.testing.assert_allclose(result.args_after[0].grad.array, [2 / 3, 4 / 3, 8 / 3], rtol=1e-6)


def test_exit_in_a_cell_skips_that_cell_and_keeps_the_rest(sandbox):
    cells = ["import os\nos._exit(0)", MSE]
    submission, (result,) = run(sandbox, cells, (("mse", np.ones(2), np.zeros(2)), {}))
    assert result.ok and result.value.array == pytest.approx(1.0)
    assert submission.cell_reports[0].status == "killed"
    assert "ended the process itself" in submission.cell_reports[0].error


def test_crash_in_one_function_costs_only_that_call(sandbox):
    cells = [MSE, "import os\ndef train(*args):\n    os._exit(3)"]
    submission, (crashed, fine) = run(sandbox, cells, (("train", 1), {}), (("mse", np.ones(2), np.zeros(2)), {}))
    assert not crashed.ok and crashed.error.type == "Crashed" and "exit 3" in crashed.error.message
    assert fine.ok and fine.value.array == pytest.approx(1.0)


def test_a_function_that_ends_the_process_is_not_called_again(sandbox):
    cells = [MSE, "import os\ndef train(*args):\n    os._exit(0)"]
    calls = [(("train", 1), {})] * (LIMITS.restarts + 2) + [(("mse", np.ones(2), np.zeros(2)), {})]
    submission, results = run(sandbox, cells, *calls)
    first, *again, fine = results
    assert first.error.type == "Crashed"
    assert all(r.error.type == "NotCalledAgain" and "ended the notebook's process" in r.error.message for r in again)
    assert fine.ok and submission._starts == 1  # only train's process ended: the notebook never ran again


def test_a_function_that_times_out_twice_is_not_called_again(sandbox):
    cells = [MSE, "def train(*a):\n    while True: pass"]
    submission, results = run(sandbox, cells, *[(("train",), {})] * 4, (("mse", np.ones(2), np.zeros(2)), {}))
    assert [r.error.type for r in results[:4]] == ["Timeout", "Timeout", "NotCalledAgain", "NotCalledAgain"]
    assert "time limit 2 times" in results[2].error.message and results[4].ok


def test_a_slow_function_that_returns_on_small_inputs_keeps_being_called(sandbox):
    cells = ["import time\ndef train(seconds):\n    time.sleep(seconds)\n    return seconds"]
    _, results = run(sandbox, cells, (("train", 0.0), {}), *[(("train", 5.0), {})] * 3, (("train", 0.0), {}))
    assert [r.error.type if r.error else "ok" for r in results] == ["ok", "Timeout", "Timeout", "Timeout", "ok"]


def test_forged_cell_reports_cost_the_forger_that_cell(sandbox):
    forge = (
        "import json, socket, struct\n_s = socket.socket(fileno=3)\n"
        "_b = json.dumps({'op': 'cell', 'index': 999, 'status': 'ok', 'error': {'type': 'E', 'message': 'm' * 50000}})"
        ".encode()\n_s.sendall(struct.pack('>I', len(_b)) + _b)"
    )
    submission, (result,) = run(sandbox, [forge, MSE], (("mse", np.ones(2), np.zeros(2)), {}))
    assert result.ok and submission.cell_reports[0].status == "killed"
    assert all(len(report.error or "") < 1000 for report in submission.cell_reports.values())


def test_a_loop_that_ignores_the_alarm_is_killed(sandbox):
    cells = [
        MSE,
        "import signal\ndef train(*a):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True: pass",
    ]
    submission, (hung, fine) = run(sandbox, cells, (("train",), {}), (("mse", np.ones(2), np.zeros(2)), {}))
    assert not hung.ok and hung.error.type == "Crashed" and "stopped responding" in hung.error.message
    assert submission.hit_limit and fine.ok


def test_plain_infinite_loop_is_a_timeout(sandbox):
    _, (result,) = run(sandbox, ["def train(*a):\n    while True: pass"], (("train",), {}))
    assert not result.ok and result.error.type == "Timeout"


def test_missing_and_not_implemented(sandbox):
    cells = ["def mse(a, b):\n    raise NotImplementedError()"]
    _, (missing, stub) = run(sandbox, cells, (("train",), {}), (("mse", 1, 2), {}))
    assert missing.error.type == "Missing"
    assert stub.error.type == "NotImplementedError" and stub.error.where == "line 2 of the cell that defines mse"


def test_stand_ins_replace_helpers_only_during_the_call(sandbox):
    cells = [
        "import torch\ndef mse(a, b):\n    return torch.tensor(123.0)",  # wrong on purpose
        "def train(model, x, y):\n    return mse(model(x), y).item()",
    ]
    x = np.zeros((4, 1), np.float32)
    y = np.ones(4, np.float32)
    _, (with_stand_in, without) = run(
        sandbox,
        cells,
        (("train", helper("line", 0.0, 3.0), x, y), {"stand_ins": ("mse",)}),
        (("train", helper("line", 0.0, 3.0), x, y), {}),
    )
    assert with_stand_in.value.value == pytest.approx(4.0)  # (3 - 1)^2
    assert without.value.value == pytest.approx(123.0)


def test_generator_arguments_and_in_place_updates_are_reported(sandbox):
    step = (
        "import torch\ndef sgd_step(params, lr):\n    with torch.no_grad():\n        for p in params:\n"
        "            if p.grad is not None:\n                p -= lr * p.grad"
    )
    params = spec_generator([spec_tensor(np.array([1.0, 2.0]), "float32", requires_grad=True, grad=np.ones(2))])
    _, (result,) = run(sandbox, [step], (("sgd_step", params, 0.5), {}))
    (after,) = result.args_after[0].items
    np.testing.assert_allclose(after.array, [0.5, 1.5])
    assert after.version == 1 and after.is_leaf and not after.has_grad_fn
    np.testing.assert_allclose(after.grad.array, [1.0, 1.0])


def test_output_is_captured_and_capped(sandbox):
    cells = ["def mse(a, b):\n    print('x' * 1_000_000)\n    return 0.0"]
    _, (result,) = run(sandbox, cells, (("mse", 1, 2), {}))
    assert result.ok and len(result.output) < LIMITS.output_chars + 200 and "dropped" in result.output


def test_where_is_said_in_the_students_words():
    cells = ["import torch", "x = 1 / 0", "def mse(a, b):\n    return a"]
    assert student_where("cell 1, line 1", cells) == "line 1 of code cell 2"
    assert student_where("cell 2, line 2", cells) == "line 2 of the cell that defines mse"
    assert student_where("cell 9, line 1", cells) == "cell 9, line 1"  # not a cell of this notebook


MAKE_MLP = (
    "import torch\ndef make(n_hidden):\n    return torch.nn.Sequential(torch.nn.Linear(2, n_hidden), torch.nn.ReLU(),"
    " torch.nn.Linear(n_hidden, 1))"
)


def test_a_returned_model_is_described_and_kept_as_a_handle(sandbox):
    submission = Submission([MAKE_MLP], sandbox, LIMITS, helpers=HELPERS)
    try:
        made = submission.call("make", 3, keep=True)
        model = made.value
        assert model.kind == "module" and model.type_name == "torch.nn.modules.container.Sequential"
        assert [t for _, t in model.children] == [
            "torch.nn.modules.linear.Linear", "torch.nn.modules.activation.ReLU", "torch.nn.modules.linear.Linear"
        ]  # fmt: skip
        assert {n: v.shape for n, v in model.fields.items()} == {
            "0.weight": (3, 2), "0.bias": (3,), "2.weight": (1, 3), "2.bias": (1,)
        }  # fmt: skip
        assert model.training is True and isinstance(made.handle, Handle)
        # reference weights copied into the student's model, then the model called on the test's inputs
        copied = submission.call_helper("copy_weights", made.handle, helper("two_layer", 7))
        assert copied.ok, copied.error
        after = copied.args_after[0]
        reference = copied.args_after[1]
        np.testing.assert_array_equal(after.fields["0.weight"].array, reference.fields["0.weight"].array)
        assert set(reference.buffers) == {"steps"}
        x = np.array([[1.0, 2.0], [-1.0, 0.5]], np.float32)
        out = submission.call_handle(made.handle, x, label="the model make(3) returned")
        assert out.ok and out.value.shape == (2, 1) and out.value.has_grad_fn
    finally:
        submission.close()


LOOK_ALIKES = """
import numpy, torch
class Linear(torch.nn.Linear):
    pass
class Sequential(torch.nn.Module):
    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)
Linear.__module__, Sequential.__module__ = "torch.nn.modules.linear", "torch.nn.modules.container"
def fake():
    return Sequential(Linear(2, 3), torch.nn.ReLU())
def hooked():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
    model[0].register_forward_hook(lambda module, inputs, output: output * 0)
    model.forward = lambda x: x
    return model
def patched():
    torch.nn.ReLU.forward = lambda self, x: x
    torch.nn.Sequential = Sequential  # rebinding torch's names changes nothing the sandbox found
    return torch.nn.modules.container.Sequential(torch.nn.ReLU())
def number():
    return numpy.float64(0.25)
"""


def test_a_model_is_named_by_identity_and_its_hooks_and_overrides_are_listed(sandbox):
    submission = Submission([LOOK_ALIKES], sandbox, LIMITS)
    try:
        fake = submission.call("fake").value
        assert (
            fake.kind == "module" and fake.type_name == "torch.nn.modules.container.Sequential (not torch's own class)"
        )
        assert [t for _, t in fake.children] == [
            "torch.nn.modules.linear.Linear (not torch's own class)", "torch.nn.modules.activation.ReLU"
        ]  # fmt: skip
        assert fake.overrides == ()
        hooked = submission.call("hooked").value
        assert hooked.type_name == "torch.nn.modules.container.Sequential"
        assert set(hooked.overrides) == {"a forward hook on layer 0", "the model has its own forward"}
        patched = submission.call("patched").value
        assert patched.type_name == "torch.nn.modules.container.Sequential"
        assert patched.overrides == ("the forward of torch.nn.modules.activation.ReLU replaced",)
        number = submission.call("number").value
        assert (number.kind, number.value, number.type_name) == ("float_subclass", 0.25, "numpy.float64")
    finally:
        submission.close()


def test_a_forged_or_stale_handle_is_an_error_never_a_value(sandbox):
    submission = Submission([MAKE_MLP], sandbox, LIMITS, helpers=HELPERS)
    try:
        forged = submission.call_handle(Handle(12345), np.zeros((1, 2), np.float32), label="a forged handle")
        assert not forged.ok and forged.error.type == "BadRequest"
        passed = submission.call("make", Handle(99))
        assert not passed.ok and passed.error.type == "BadRequest"
        unknown = submission.call_helper("_private")
        assert not unknown.ok and unknown.error.type == "BadRequest"
        missing_stand_in = submission.call("make", 3, stand_ins=("sgd_step",))
        assert not missing_stand_in.ok and missing_stand_in.error.type == "BadRequest"
    finally:
        submission.close()


def test_generators_and_optimizers_come_back_as_data(sandbox):
    cells = [
        "import torch\ndef draw(g):\n    return torch.randperm(5, generator=g)",
        "def optimizer(model):\n    opt = torch.optim.Adam(model.parameters(), lr=0.1)\n"
        "    model(torch.ones(1, 1)).sum().backward()\n    opt.step()\n    return opt",
    ]
    submission = Submission(cells, sandbox, LIMITS, helpers=HELPERS)
    try:
        drawn = submission.call("draw", helper("generator", 3))
        generator_after = drawn.args_after[0]
        assert generator_after.kind == "generator" and generator_after.state.dtype == "uint8"
        again = submission.call("draw", helper("generator", 3))
        np.testing.assert_array_equal(drawn.value.array, again.value.array)
        opt = submission.call("optimizer", helper("line", 1.0, 0.0)).value
        assert opt.kind == "optimizer" and opt.type_name == "torch.optim.adam.Adam"
        state = opt.state.fields["state"].fields["0"].fields
        assert {"step", "exp_avg", "exp_avg_sq"} <= set(state)
    finally:
        submission.close()


# -- one process per graded function --------------------------------------------------------------------------

COUNTER = "count = [0]\ndef bump():\n    count[0] += 1\n    return count[0]\ndef peek():\n    return count[0]\n"


def test_each_function_starts_from_the_notebook_as_its_cells_left_it(sandbox):
    submission = Submission([COUNTER, MAKE_MLP], sandbox, LIMITS, helpers=HELPERS)
    try:
        submission.grading("bump")
        assert [submission.call("bump").value.value for _ in range(3)] == [1, 2, 3]  # its own state, kept
        kept = submission.call("make", 2, keep=True)
        submission.grading("peek")
        assert submission.call("peek").value.value == 0  # bump's calls did not happen here
        stale = submission.call_handle(kept.handle, np.zeros((1, 2), np.float32), label="bump's model")
        assert not stale.ok and stale.error.type == "BadRequest"  # nor was anything kept for bump
        submission.grading("bump")
        assert submission.call("bump").value.value == 1  # a new fork: nothing survives a change of function
    finally:
        submission.close()


def test_a_crash_costs_its_function_only_and_the_notebook_does_not_run_again(sandbox):
    cells = ["import os\ndef crash():\n    os._exit(3)", COUNTER]
    submission = Submission(cells, sandbox, LIMITS, helpers=HELPERS)
    try:
        submission.grading("crash")
        crashed = submission.call("crash")
        assert crashed.error.type == "Crashed" and "exit 3" in crashed.error.message
        assert submission.call("crash").error.type == "NotCalledAgain"
        submission.grading("bump")
        assert submission.call("bump").value.value == 1
        assert submission._starts == 1  # the cells ran once: the crash ended crash's process, not the notebook's
    finally:
        submission.close()


def test_a_function_with_a_stand_in_is_graded_without_it(sandbox):
    cells = ["def mse(a, b):\n    return good_mse(a, b)", "import torch\ndef train(x, y):\n    return mse(x, y).item()"]
    x, y = np.zeros(3, np.float32), np.ones(3, np.float32)
    submission = Submission(cells, sandbox, LIMITS, helpers=HELPERS)
    try:
        submission.grading("mse")
        withheld = submission.call_helper("good_mse", x, y)
        assert not withheld.ok and withheld.error.type == "BadRequest"  # mse's own stand-in is not in its process
        asked = submission.call("mse", x, y, stand_ins=("mse",))
        assert not asked.ok and asked.error.type == "BadRequest" and "nobody's" in asked.error.message
        submission.grading("train")
        assert submission.call("train", x, y, stand_ins=("mse",)).value.value == pytest.approx(1.0)
    finally:
        submission.close()


def test_files_one_function_wrote_are_gone_for_the_next(sandbox):
    cells = [
        "import os\nopen('from_cells.txt', 'w').write('cells')\n"
        "def write():\n    open('from_write.txt', 'w').write('f')\n    open('from_cells.txt', 'w').write('changed')\n"
        "    os.makedirs('folder/inner', exist_ok=True)\n    return sorted(os.listdir('.'))\n"
        "def look():\n    return [sorted(os.listdir('.')), open('from_cells.txt').read()]"
    ]
    submission = Submission(cells, sandbox, LIMITS, helpers=HELPERS)
    try:
        submission.grading("write")
        assert submission.call("write").value.items[0].value == "folder"
        submission.grading("look")
        files, text = submission.call("look").value.items
        assert [item.value for item in files.items] == ["from_cells.txt"] and text.value == "cells"
    finally:
        submission.close()
