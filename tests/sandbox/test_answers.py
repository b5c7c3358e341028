"""What each graded function's process gets of the helpers: never its own answers; nobody's, for a function
that has answers of its own; and clear errors for declarations the engine cannot enforce."""

import pytest

from autograder.sandbox.answers import Helpers, HelpersError
from tests.support import ROOT

HELPERS = """
import torch

INERT_MODULES = ("course_utils.plots",)


def mlp(seed, n_in, n_hidden, n_out):
    return torch.nn.Linear(n_in, n_out)


def generator(seed):
    return torch.Generator().manual_seed(seed)


def good_mse(y_pred, y_true):
    return ((y_pred - y_true) ** 2).mean()


def good_accuracy(logits, targets):
    return (logits.argmax(1) == targets).double().mean().item()


STAND_INS = {"mse": good_mse, "accuracy": good_accuracy}
STANDS_FOR = {"mlp": "make_mlp"}
"""


def helpers_of(tmp_path, source: str) -> Helpers:
    path = tmp_path / "helpers.py"
    path.write_text(source)
    return Helpers(path)


def defined(source: str) -> dict:
    scope: dict = {}
    exec(compile(source, "<helpers>", "exec"), scope)
    return scope


def test_a_function_with_answers_of_its_own_gets_nobodys(tmp_path):
    helpers = helpers_of(tmp_path, HELPERS)
    for function in ("mse", "accuracy", "make_mlp"):
        scope = defined(helpers.source_for(function))
        assert {"mlp", "good_mse", "good_accuracy"}.isdisjoint(scope), function
        assert scope["STAND_INS"] == {} and "generator" in scope and scope["INERT_MODULES"] == ("course_utils.plots",)


def test_any_other_function_gets_every_answer_but_its_own(tmp_path):
    helpers = helpers_of(tmp_path, HELPERS)
    scope = defined(helpers.source_for("train"))
    assert set(scope["STAND_INS"]) == {"mse", "accuracy"} and callable(scope["mlp"])
    assert "good_mse" not in helpers.source_for("mse") and "good_mse" in helpers.source_for(None)


def test_functions_with_answers_are_graded_first(tmp_path):
    helpers = helpers_of(tmp_path, HELPERS)
    assert helpers.answered == {"mse", "accuracy", "make_mlp"}
    assert sorted(["train", "mse", "evaluate", "make_mlp"], key=helpers.rank)[:2] == ["mse", "make_mlp"]
    assert helpers.inert_modules == ("course_utils.plots",)


@pytest.mark.parametrize(
    ("declaration", "says"),
    [
        ('STAND_INS = {"mse": lambda a, b: 0}', "STAND_INS must be a dict literal"),
        ("STAND_INS = dict(mse=good_mse)", "STAND_INS must be a dict literal"),
        ('STANDS_FOR = {"mlp": make_mlp}', "STANDS_FOR must be a dict literal"),
        ('STANDS_FOR = {"nothing": "make_mlp"}', "does not define"),
        ('STAND_INS = {"mse": missing}', "does not define"),
        ("INERT_MODULES = 3", "INERT_MODULES must be a tuple"),
    ],
)
def test_declarations_the_engine_cannot_enforce_are_refused(tmp_path, declaration, says):
    with pytest.raises(HelpersError, match=says):
        helpers_of(tmp_path, HELPERS + declaration + "\n")


def test_the_kit_assignments_declare_their_builders():
    answers = {"line_fit": {"mse", "sgd_step"}, "mlp_spirals": {"cross_entropy", "accuracy", "minibatches", "make_mlp"}}
    for name, answered in answers.items():
        helpers = Helpers(ROOT / "autograder" / "hidden_tests" / name / "helpers.py")
        assert helpers.answered == answered, name
