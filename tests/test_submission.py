"""The grader's client of a sandboxed notebook: calls, restarts after a crash, timeouts, stand-ins."""

import numpy as np
import pytest

from autograder.grading.limits import Limits
from autograder.grading.submission import Submission, student_where
from autograder.sandbox.launcher import Sandbox
from autograder.testkit.values import spec_generator, spec_line_model, spec_tensor

MSE = "def mse(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).mean()\n"
LIMITS = Limits(call_seconds=1.0, cell_seconds=1.0, submission_seconds=30)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sandbox:
        yield sandbox


def run(sandbox, cells, *calls):
    submission = Submission(cells, sandbox, LIMITS)
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
    assert fine.ok and submission._starts == 2  # one restart, whatever the number of calls to train


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
        (("train", spec_line_model(0.0, 3.0), x, y), {"stand_ins": ("mse",)}),
        (("train", spec_line_model(0.0, 3.0), x, y), {}),
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
