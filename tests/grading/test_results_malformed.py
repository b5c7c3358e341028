"""Unit tests for Results on malformed data, and recorded_seeds (autograder.grading.results)."""

from __future__ import annotations

import math

import pytest

from autograder.grading.results import Results, recorded_seeds


def test_of_wraps_a_dict():
    data = {"score": 3}
    results = Results.of(data)
    assert isinstance(results, Results)
    assert results.data is data
    assert results.score == 3.0


def test_of_returns_a_results_as_it_is():
    results = Results({"score": 1})
    assert Results.of(results) is results


@pytest.mark.parametrize("data", [None, [1, 2], "score", 7])
def test_of_a_non_dict_is_empty(data):
    results = Results.of(data)
    assert results.data == {}
    assert (results.score, results.max_score, results.tests, results.extra) == (0.0, 0.0, [], {})


def test_tests_that_are_not_objects_are_left_out():
    good = {"name": "f: ok", "score": 2, "max_score": 2, "status": "passed", "tags": ["f"], "output": ""}
    tests = Results({"tests": [1, "x", None, [good], good]}).tests
    assert len(tests) == 1
    test = tests[0]
    assert (test.name, test.function, test.score, test.max_score, test.passed) == ("f: ok", "f", 2.0, 2.0, True)


def test_tests_not_a_list_or_null_is_empty():
    assert Results({"tests": None}).tests == []
    assert Results({}).tests == []


def test_a_test_without_fields_gets_defaults():
    (test,) = Results({"tests": [{}]}).tests
    assert (test.name, test.function, test.score, test.max_score, test.passed, test.output) == (
        "", "other", 0.0, 0.0, False, ""
    )  # fmt: skip


def test_tags_that_are_not_a_list_give_other():
    (test,) = Results({"tests": [{"tags": "f"}]}).tests
    assert test.function == "other"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True, False, "3", None, [1]])
def test_scores_that_are_not_finite_numbers_count_zero(bad):
    results = Results({"score": bad, "max_score": bad, "tests": [{"score": bad, "max_score": bad}]})
    assert results.score == 0.0
    assert results.max_score == 0.0
    assert (results.tests[0].score, results.tests[0].max_score) == (0.0, 0.0)


def test_an_int_score_reads_as_a_float():
    results = Results({"score": 4, "max_score": 5})
    assert (results.score, results.max_score) == (4.0, 5.0)
    assert isinstance(results.score, float)


@pytest.mark.parametrize("extra", [None, [], "x", 3])
def test_extra_data_that_is_not_an_object_is_empty(extra):
    results = Results({"score": 2, "extra_data": extra})
    assert results.extra == {}
    assert results.late == {}
    assert results.evidence() == {}
    assert results.load_error is None
    assert results.score == 2.0


def test_a_load_error_makes_the_score_zero():
    results = Results({"score": 5, "max_score": 10, "extra_data": {"load_error": "not a notebook"}})
    assert results.load_error == "not a notebook"
    assert results.score == 0.0
    assert results.max_score == 10.0
    assert results.final_score == 0.0


def test_an_empty_load_error_is_no_error():
    results = Results({"score": 5, "extra_data": {"load_error": ""}})
    assert results.load_error is None
    assert results.score == 5.0


def late(penalty, score=5.0) -> Results:
    return Results({"score": score, "extra_data": {"late": {"penalty": penalty}}})


@pytest.mark.parametrize(
    ("penalty", "expected"),
    [(1.5, 1.5), (0, 0.0), (-2, 0.0), (10, 5.0), (math.nan, 0.0), ("1", 0.0), (True, 0.0), (None, 0.0)],
)
def test_the_penalty_is_clipped_to_zero_and_the_score(penalty, expected):
    results = late(penalty)
    assert results.penalty == expected
    assert results.final_score == 5.0 - expected


def test_late_that_is_not_an_object_is_no_penalty():
    results = Results({"score": 5, "extra_data": {"late": [1]}})
    assert results.late == {}
    assert (results.penalty, results.final_score) == (0.0, 5.0)


def test_no_penalty_on_a_notebook_that_could_not_be_read():
    results = Results({"score": 5, "extra_data": {"load_error": "x", "late": {"penalty": 2}}})
    assert (results.penalty, results.final_score) == (0.0, 0.0)


def test_function_scores_sum_per_function_and_skip_bad_tests():
    tests = [
        {"tags": ["f"], "score": 1, "max_score": 2},
        "not a test",
        {"tags": ["g"], "score": math.nan, "max_score": 3},
        {"tags": ["f"], "score": 2, "max_score": 2},
    ]
    results = Results({"tests": tests})
    assert results.functions() == ["f", "g"]
    assert results.function_scores() == {"f": 3.0, "g": 0.0}
    assert results.function_max_scores() == {"f": 4.0, "g": 3.0}


# -- recorded_seeds --------------------------------------------------------------------------------------


def seeded(seeds) -> dict:
    return {"extra_data": {"seeds": seeds}}


def test_recorded_seeds_keeps_digit_strings_as_ints():
    assert recorded_seeds(seeded({"t.py::a": "123", "t.py::b": "0"})) == {"t.py::a": 123, "t.py::b": 0}


def test_recorded_seeds_keeps_a_128_bit_seed():
    seed = 2**128 - 1
    assert recorded_seeds(seeded({"t.py::a": str(seed)})) == {"t.py::a": seed}


@pytest.mark.parametrize("bad", ["12x", "", "-1", "1.5", " 12", "0x1f", 12, 1.0, None, True, ["1"]])
def test_recorded_seeds_drops_what_is_not_a_digit_string(bad):
    assert recorded_seeds(seeded({"t.py::bad": bad, "t.py::good": "7"})) == {"t.py::good": 7}


def test_recorded_seeds_drops_very_long_strings():
    assert recorded_seeds(seeded({"a": "9" * 49, "b": "9" * 50, "c": "1" * 10_000})) == {"a": int("9" * 49)}


@pytest.mark.parametrize("seeds", [None, ["1", "2"], "123", 5])
def test_recorded_seeds_of_a_non_dict_is_empty(seeds):
    assert recorded_seeds(seeded(seeds)) == {}


@pytest.mark.parametrize("results", [{}, None, [], {"extra_data": None}, {"extra_data": []}])
def test_recorded_seeds_without_extra_data_is_empty(results):
    assert recorded_seeds(results) == {}


def test_recorded_seeds_reads_a_results_object():
    assert recorded_seeds(Results(seeded({"a": "5"}))) == {"a": 5}


def test_recorded_seeds_drops_a_unicode_digit_int_cannot_read():
    assert recorded_seeds(seeded({"t.py::bad": "\u00b2", "t.py::good": "7"})) == {"t.py::good": 7}
