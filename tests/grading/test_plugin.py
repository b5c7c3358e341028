"""Unit tests for autograder.grading.plugin.GradingPlugin: marker usage errors, recorded outcomes and rng seeds."""

from __future__ import annotations

import contextlib
import io
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest

from autograder.grading.engine import HIDDEN_TESTS_INI
from autograder.grading.plugin import GradingPlugin

HEADER = "import pytest\nfrom autograder.testkit.expect import Mistake\n\n"
INTERNAL = "The grader could not run this test (an internal error); your TA has been told."


def run(folder: Path, source: str, plugin: GradingPlugin, name: str | None = None) -> tuple[pytest.ExitCode, str, str]:
    """Run one hidden-test file the way engine.run_hidden_tests does: (exit code, pytest's output, file name).
    Each file gets a fresh module name: importlib mode reuses a module of the same name from sys.modules."""
    name = name or f"test_hidden_{uuid.uuid4().hex}.py"
    path = folder / name
    if not path.exists():
        path.write_text(HEADER + textwrap.dedent(source))
    args = [
        str(path), "-c", str(HIDDEN_TESTS_INI), "--rootdir", str(folder),
        "-p", "no:cacheprovider", "-p", "no:stepwise", "--import-mode=importlib", "-q", "--no-header",
        "-p", "no:unraisableexception", "-p", "no:threadexception", "-W", "ignore",
    ]  # fmt: skip
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main(args, plugins=[plugin])
    return code, sink.getvalue(), name


def test_the_options_use_the_kits_hidden_tests_ini():
    assert HIDDEN_TESTS_INI.is_file()
    assert "points(n)" in HIDDEN_TESTS_INI.read_text()


# -- usage errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markers", "expected"),
    [
        ('@pytest.mark.grades("f")', "needs exactly one @pytest.mark.points(...)"),
        ('@pytest.mark.points(1, 2)\n@pytest.mark.grades("f")', "needs exactly one @pytest.mark.points(...)"),
        ('@pytest.mark.points(0)\n@pytest.mark.grades("f")', "points must be a positive number"),
        ('@pytest.mark.points(-1.5)\n@pytest.mark.grades("f")', "points must be a positive number"),
        ('@pytest.mark.points("3")\n@pytest.mark.grades("f")', "points must be a positive number"),
        ('@pytest.mark.points(None)\n@pytest.mark.grades("f")', "points must be a positive number"),
        ("@pytest.mark.points(1)", "needs exactly one @pytest.mark.grades(...)"),
        ("@pytest.mark.points(1)\n@pytest.mark.grades(3)", "grades(...) takes the function's name"),
    ],
    ids=["no-points", "points-two-args", "zero", "negative", "string", "none", "no-grades", "grades-int"],
)
def test_a_badly_marked_hidden_test_is_a_usage_error(tmp_path, markers, expected):
    source = f"\n{markers}\ndef test_bad():\n    pass\n"
    plugin = GradingPlugin(submission=None)
    code, output, name = run(tmp_path, source, plugin)
    assert code == pytest.ExitCode.USAGE_ERROR
    assert f"hidden test {name}::test_bad" in output
    assert expected in output
    assert plugin.outcomes == []


@pytest.mark.parametrize(
    "markers",
    [
        '@pytest.mark.points(1)\n@pytest.mark.points(2)\n@pytest.mark.grades("f")',
        '@pytest.mark.points(1)\n@pytest.mark.grades("f")\n@pytest.mark.grades("g")',
    ],
    ids=["two-points", "two-grades"],
)
def test_a_stacked_marker_is_overridden_by_the_nearest_one(tmp_path, markers):
    """A function's marker overrides its module's `pytestmark` (the hidden tests rely on it), so of two
    stacked markers the one nearest the function counts; this is today's rule, not a usage error."""
    plugin = GradingPlugin(submission=None)
    code, _, _ = run(tmp_path, f"\n{markers}\ndef test_stacked():\n    pass\n", plugin)
    assert code == pytest.ExitCode.OK
    (outcome,) = plugin.outcomes
    assert (outcome.points, outcome.function) == ((1.0, "g") if 'grades("g")' in markers else (2.0, "f"))


def test_usage_error_names_the_bad_test_among_good_ones(tmp_path):
    source = """
    @pytest.mark.points(1)
    @pytest.mark.grades("f")
    def test_good():
        pass

    @pytest.mark.grades("f")
    def test_unpointed():
        pass
    """
    code, output, name = run(tmp_path, source, GradingPlugin(submission=None))
    assert code == pytest.ExitCode.USAGE_ERROR
    assert f"{name}::test_unpointed" in output
    assert f"{name}::test_good" not in output


def test_an_unregistered_marker_is_rejected_by_the_strict_ini(tmp_path):
    source = """
    @pytest.mark.point(1)
    @pytest.mark.grades("f")
    def test_typo():
        pass
    """
    code, output, _ = run(tmp_path, source, GradingPlugin(submission=None))
    assert code != pytest.ExitCode.OK
    assert "point" in output


# -- outcomes --------------------------------------------------------------------------------------------

OUTCOMES = '''
@pytest.mark.points(2)
@pytest.mark.grades("fit_line")
def test_passes():
    """The slope is right.

    More text the student never sees."""

@pytest.mark.points(1.5)
@pytest.mark.grades("fit_line")
def test_mistake():
    raise Mistake("the slope: expected 2, got 3.")

@pytest.mark.points(1)
@pytest.mark.grades("loss")
def test_broken():
    raise ValueError("a bug in the hidden test")

@pytest.mark.points(1)
@pytest.mark.grades("loss")
def test_assert():
    assert 1 == 2, "hidden test source"

@pytest.mark.points(3)
@pytest.mark.grades("loss")
def test_missing_fixture(no_such_fixture):
    pass
'''


@pytest.fixture
def outcomes(tmp_path):
    plugin = GradingPlugin(submission=None)
    code, _, name = run(tmp_path, OUTCOMES, plugin)
    assert code == pytest.ExitCode.TESTS_FAILED
    return plugin, {outcome.name.split(": ", 1)[1]: outcome for outcome in plugin.outcomes}, name


def test_every_test_is_recorded_once_in_order(outcomes):
    plugin, _, _ = outcomes
    assert [o.function for o in plugin.outcomes] == ["fit_line", "fit_line", "loss", "loss", "loss"]


def test_a_passing_test_is_named_by_its_function_and_first_docstring_line(outcomes):
    plugin, _, _ = outcomes
    first = plugin.outcomes[0]
    assert first.name == "fit_line: The slope is right."
    assert (first.function, first.points, first.passed, first.message) == ("fit_line", 2.0, True, "")
    assert isinstance(first.points, float)


def test_a_mistake_is_a_failure_with_its_message(outcomes):
    _, by_name, _ = outcomes
    outcome = by_name["test_mistake"]
    assert outcome.name == "fit_line: test_mistake"  # no docstring: the test's name
    assert (outcome.points, outcome.passed) == (1.5, False)
    assert outcome.message == "the slope: expected 2, got 3."


def test_another_exception_is_an_internal_error(outcomes):
    plugin, by_name, name = outcomes
    outcome = by_name["test_broken"]
    assert (outcome.function, outcome.points, outcome.passed) == ("loss", 1.0, False)
    assert outcome.message == INTERNAL
    broken = [e for e in plugin.internal_errors if e.startswith(f"{name}::test_broken: ")]
    assert len(broken) == 1
    assert "ValueError: a bug in the hidden test" in broken[0]
    assert f'{name}", line 20, in test_broken\n    raise ValueError("a bug in the hidden test")' in broken[0], broken[0]
    assert not any(frame in broken[0] for frame in ("_pytest", "pluggy", "autograder/grading")), broken[0]
    assert len(broken[0].splitlines()) == 4  # the test, its frame (file and line, then the code), the error


def test_a_shared_module_beside_the_tests_keeps_its_frame_in_the_tas_block(tmp_path):
    (tmp_path / "shared_blobs.py").write_text("def blobs(n):\n    return 1 / n\n")
    plugin = GradingPlugin(submission=None)
    source = """
    import sys, pathlib
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from shared_blobs import blobs

    @pytest.mark.points(1)
    @pytest.mark.grades("loss")
    def test_uses_shared_code():
        blobs(0)
    """
    run(tmp_path, source, plugin)
    (error,) = plugin.internal_errors
    assert 'shared_blobs.py", line 2, in blobs' in error and "ZeroDivisionError: division by zero" in error
    assert "_pytest" not in error and "pluggy" not in error


def test_a_plain_assert_is_an_internal_error_and_hides_its_text(outcomes):
    plugin, by_name, _ = outcomes
    outcome = by_name["test_assert"]
    assert outcome.message == INTERNAL
    assert "hidden test source" not in outcome.message


def test_a_setup_failure_is_recorded_as_an_internal_error(outcomes):
    plugin, by_name, name = outcomes
    outcome = by_name["test_missing_fixture"]
    assert (outcome.points, outcome.passed, outcome.message) == (3.0, False, INTERNAL)
    assert any(e.startswith(f"{name}::test_missing_fixture: ") for e in plugin.internal_errors)
    assert len(plugin.internal_errors) == 3


class Told:
    """Stands in for a Submission: remembers which function each test said it grades."""

    helpers = None

    def __init__(self):
        self.functions: list[str] = []

    def grading(self, function: str) -> None:
        self.functions.append(function)


def test_all_passing_exits_ok_without_internal_errors(tmp_path):
    source = """
    @pytest.mark.points(1)
    @pytest.mark.grades("f")
    def test_one(submission, evidence):
        evidence["submission"] = submission
    """
    told = Told()
    plugin = GradingPlugin(submission=told)
    code, _, _ = run(tmp_path, source, plugin)
    assert code == pytest.ExitCode.OK
    assert [o.passed for o in plugin.outcomes] == [True]
    assert plugin.internal_errors == []
    assert plugin.evidence == {"submission": told} and told.functions == ["f"]


# -- rng seeds -------------------------------------------------------------------------------------------

RNG = """
@pytest.mark.points(1)
@pytest.mark.grades("f")
def test_draw(rng, evidence):
    evidence["draw"] = rng.random(3).tolist()

@pytest.mark.points(1)
@pytest.mark.grades("f")
def test_other(rng, evidence):
    evidence["other"] = rng.random(3).tolist()
"""


def test_the_rng_seed_is_recorded_per_node_id(tmp_path):
    plugin = GradingPlugin(submission=None)
    code, _, name = run(tmp_path, RNG, plugin)
    assert code == pytest.ExitCode.OK
    assert set(plugin.seeds) == {f"{name}::test_draw", f"{name}::test_other"}
    seed = plugin.seeds[f"{name}::test_draw"]
    assert isinstance(seed, int)
    assert plugin.evidence["draw"] == np.random.default_rng(seed).random(3).tolist()
    assert plugin.seeds[f"{name}::test_draw"] != plugin.seeds[f"{name}::test_other"]


def test_a_fresh_grading_draws_fresh_seeds(tmp_path):
    first, second = GradingPlugin(submission=None), GradingPlugin(submission=None)
    _, _, name = run(tmp_path, RNG, first)
    run(tmp_path, RNG, second, name=name)
    assert first.seeds.keys() == second.seeds.keys()
    assert first.seeds != second.seeds
    assert first.evidence["draw"] != second.evidence["draw"]


def test_a_given_seed_is_replayed(tmp_path):
    first = GradingPlugin(submission=None)
    _, _, name = run(tmp_path, RNG, first)
    draw = f"{name}::test_draw"
    replay = GradingPlugin(submission=None, seeds={draw: first.seeds[draw]})
    code, _, _ = run(tmp_path, RNG, replay, name=name)
    assert code == pytest.ExitCode.OK
    assert replay.seeds[draw] == first.seeds[draw]
    assert replay.evidence["draw"] == first.evidence["draw"]
    other = f"{name}::test_other"
    assert replay.seeds[other] != first.seeds[other]  # a test without a recorded seed gets a new one


def test_a_chosen_seed_gives_that_generators_numbers(tmp_path):
    plugin = GradingPlugin(submission=None, seeds={"elsewhere::test_x": 1})
    _, _, name = run(tmp_path, RNG, plugin)
    assert "elsewhere::test_x" not in plugin.seeds
    plugin = GradingPlugin(submission=None, seeds={f"{name}::test_draw": 12345})
    run(tmp_path, RNG, plugin, name=name)
    assert plugin.seeds[f"{name}::test_draw"] == 12345
    assert plugin.evidence["draw"] == np.random.default_rng(12345).random(3).tolist()


class Answered:
    """Stands in for the helpers: `mse` has answers among them, so it is graded first."""

    def rank(self, function: str) -> int:
        return 0 if function == "mse" else 1


def test_functions_with_answers_run_first_and_outcomes_keep_the_written_order(tmp_path):
    source = """
    @pytest.mark.points(1)
    @pytest.mark.grades("train")
    def test_a(submission):
        pass

    @pytest.mark.points(1)
    @pytest.mark.grades("mse")
    def test_b(submission):
        pass

    @pytest.mark.points(1)
    @pytest.mark.grades("train")
    def test_c(submission):
        pass
    """
    told = Told()
    told.helpers = Answered()
    plugin = GradingPlugin(submission=told)
    code, _, _ = run(tmp_path, source, plugin)
    assert code == pytest.ExitCode.OK
    assert told.functions == ["mse", "train", "train"]  # each function's tests together, mse's first
    assert [o.id.rsplit("::", 1)[1] for o in plugin.outcomes] == ["test_a", "test_b", "test_c"]
