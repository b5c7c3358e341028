"""Unit tests for autograder.testkit.expect: require_ok, expect_close, expect, expect_plain_model, number_pair and
preview."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.testkit.calls import CallError, CallResult
from autograder.testkit.expect import (
    MAX_MESSAGE_CHARS,
    Mistake,
    expect,
    expect_close,
    expect_number,
    expect_plain_model,
    expect_same_twice,
    expect_tensor,
    number_pair,
    preview,
    require_ok,
)
from autograder.testkit.values import Value


def tensor(array, dtype: str = "float64") -> Value:
    array = np.asarray(array, dtype=np.float64)
    return Value("tensor", array=array, dtype=dtype, shape=tuple(array.shape))


def failed(kind: str, message: str = "", where: str | None = None) -> CallResult:
    return CallResult(ok=False, error=CallError(kind, message, where))


def mistake_text(result: CallResult, hints=None) -> str:
    with pytest.raises(Mistake) as excinfo:
        require_ok(result, "fit_line", hints)
    return str(excinfo.value)


# -- Mistake and expect ----------------------------------------------------------------------------------


def test_mistake_is_an_assertion_error():
    assert issubclass(Mistake, AssertionError)


def test_expect_passes_when_the_condition_holds():
    assert expect(True, "never shown") is None


def test_expect_raises_the_message_without_a_hint():
    with pytest.raises(Mistake) as excinfo:
        expect(False, "loss should be a scalar.")
    assert str(excinfo.value) == "loss should be a scalar."


def test_expect_appends_the_hint_on_its_own_line():
    with pytest.raises(Mistake) as excinfo:
        expect(False, "loss should be a scalar.", hint="use .mean()")
    assert str(excinfo.value) == "loss should be a scalar.\nHint: use .mean()"


# -- require_ok ------------------------------------------------------------------------------------------


def test_require_ok_returns_the_value_of_an_ok_result():
    value = Value("float", value=1.5)
    assert require_ok(CallResult(ok=True, value=value), "fit_line") is value


def test_require_ok_rejects_an_ok_result_without_a_value():
    assert mistake_text(CallResult(ok=True, value=None)).startswith("fit_line raised Error")


def test_require_ok_not_implemented_says_where():
    text = mistake_text(failed("NotImplementedError", "", "line 3 of the cell that defines fit_line"))
    assert text == (
        "fit_line is not implemented yet: replace `raise NotImplementedError()` with your code "
        "(at line 3 of the cell that defines fit_line)."
    )


def test_require_ok_not_implemented_without_a_place():
    text = mistake_text(failed("NotImplementedError"))
    assert text == "fit_line is not implemented yet: replace `raise NotImplementedError()` with your code."


def test_require_ok_missing():
    text = mistake_text(failed("Missing", "name 'fit_line' is not defined"))
    assert text == "fit_line is not defined: did its cell run? (Run the notebook top to bottom before submitting.)"


def test_require_ok_not_callable():
    text = mistake_text(failed("NotCallable", "int"))
    assert text == "fit_line is not a function: a later cell seems to assign something else to that name."


def test_require_ok_timeout_quotes_the_limit():
    text = mistake_text(failed("Timeout", "10 s"))
    assert text == "fit_line did not finish in time (10 s). Look for a loop that never ends."


@pytest.mark.parametrize("kind", ["Crashed", "Unavailable", "Malformed", "NotCalledAgain"])
def test_require_ok_could_not_be_graded_quotes_the_reason(kind):
    text = mistake_text(failed(kind, "the notebook's process ended"))
    assert text == "fit_line could not be graded: the notebook's process ended."


@pytest.mark.parametrize("kind", ["Crashed", "Unavailable", "Malformed", "NotCalledAgain"])
def test_require_ok_could_not_be_graded_without_a_reason(kind):
    assert mistake_text(failed(kind)) == "fit_line could not be graded: the notebook process stopped."


def test_require_ok_ordinary_exception_quotes_type_message_and_place():
    text = mistake_text(failed("ValueError", "shapes do not match", "line 2 of code cell 4"))
    assert text == "fit_line raised ValueError: shapes do not match (at line 2 of code cell 4)"


def test_require_ok_hint_matches_case_insensitively():
    hints = {"MAT1 AND MAT2": "check the order of the matrix product.", "dtype": "not this one"}
    text = mistake_text(failed("RuntimeError", "mat1 and mat2 shapes cannot be multiplied"), hints)
    assert text == (
        "fit_line raised RuntimeError: mat1 and mat2 shapes cannot be multiplied\n"
        "Hint: check the order of the matrix product."
    )


def test_require_ok_no_hint_when_nothing_matches():
    text = mistake_text(failed("RuntimeError", "boom"), {"dtype": "use the inputs' dtype"})
    assert "Hint" not in text
    assert text == "fit_line raised RuntimeError: boom"


def test_require_ok_clips_a_long_exception_message():
    text = mistake_text(failed("ValueError", "x" * (MAX_MESSAGE_CHARS + 50)))
    assert text == "fit_line raised ValueError: " + "x" * MAX_MESSAGE_CHARS


def test_require_ok_without_an_error_object():
    assert mistake_text(CallResult(ok=False)) == "fit_line raised Error: "


# -- expect_close ----------------------------------------------------------------------------------------


def test_expect_close_passes_within_tolerance():
    assert expect_close([100.9, 0.0], [100.0, 0.0], rtol=0.01, atol=0.0, what="w") is None
    assert expect_close(1e-9, 0.0, rtol=0.0, atol=1e-8, what="w") is None


def test_expect_close_fails_just_outside_tolerance():
    with pytest.raises(Mistake) as excinfo:
        expect_close(101.1, 100.0, rtol=0.01, atol=0.0, what="the slope")
    assert str(excinfo.value) == "the slope: expected 100, got 101.1."


def test_expect_close_atol_is_added_to_rtol():
    assert expect_close(101.5, 100.0, rtol=0.01, atol=0.6, what="w") is None
    with pytest.raises(Mistake):
        expect_close(101.7, 100.0, rtol=0.01, atol=0.6, what="w")


def test_expect_close_names_the_first_wrong_element_and_counts():
    actual = np.array([[1.0, 2.0], [3.5, 4.5]])
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(Mistake) as excinfo:
        expect_close(actual, expected, rtol=1e-6, atol=1e-6, what="the output")
    assert str(excinfo.value) == "the output: 2 of 4 values are wrong; e.g. at index (1, 0) expected 3, got 3.5."


def test_expect_close_one_dimensional_index_is_a_plain_number():
    with pytest.raises(Mistake) as excinfo:
        expect_close([1.0, 2.0, 9.0], [1.0, 2.0, 3.0], rtol=0, atol=1e-6, what="y")
    assert "at index 2 expected 3, got 9." in str(excinfo.value)


def test_expect_close_nan_is_never_close():
    with pytest.raises(Mistake) as excinfo:
        expect_close([1.0, np.nan], [1.0, 2.0], rtol=1.0, atol=1.0, what="grad")
    assert "1 of 2 values are wrong" in str(excinfo.value)
    assert "got nan" in str(excinfo.value)


def test_expect_close_nan_expected_and_actual_is_still_wrong():
    with pytest.raises(Mistake):
        expect_close(np.nan, np.nan, rtol=1.0, atol=1.0, what="loss")


def test_expect_close_wrong_shape():
    with pytest.raises(Mistake) as excinfo:
        expect_close(np.zeros(3), np.zeros((3, 1)), rtol=1, atol=1, what="the prediction", hint="keep dims")
    assert str(excinfo.value) == "the prediction should have shape (3, 1), but it has shape (3,).\nHint: keep dims"


def test_expect_close_scalar_against_one_element_array_is_a_shape_mistake():
    with pytest.raises(Mistake, match=r"should have shape \(1,\), but it has shape \(\)"):
        expect_close(1.0, [1.0], rtol=0, atol=0, what="loss")


def test_expect_close_gives_the_hint_of_a_matching_alternative():
    expected, halved = np.array([2.0, 4.0]), np.array([1.0, 2.0])
    with pytest.raises(Mistake) as excinfo:
        expect_close(halved, expected, 1e-6, 1e-6, "grad", hint="general", alternatives=[(halved, "no 0.5 factor")])
    assert str(excinfo.value).endswith("\nHint: no 0.5 factor")


def test_expect_close_gives_the_general_hint_when_no_alternative_matches():
    with pytest.raises(Mistake) as excinfo:
        expect_close([7.0, 7.0], [2.0, 4.0], 1e-6, 1e-6, "grad", hint="general", alternatives=[([1.0, 2.0], "x")])
    assert str(excinfo.value).endswith("\nHint: general")


def test_expect_close_does_not_check_the_kind_of_value():
    """A Value is not an array: the kind is checked by expect_tensor/expect_number before expect_close."""
    with pytest.raises(TypeError):
        expect_close(Value("float", value=1.0), 1.0, rtol=0, atol=0, what="loss")


def test_a_python_float_is_the_wrong_kind_for_expect_tensor():
    with pytest.raises(Mistake) as excinfo:
        expect_tensor(Value("float", value=0.5), "the loss")
    text = str(excinfo.value)
    assert text.startswith("the loss should be a torch.Tensor, but it is a Python float (0.5).\nHint: ")
    assert ".item()" in text


def test_expect_tensor_then_expect_close_on_a_tensor_value():
    values = expect_tensor(tensor([[1.0, 2.0]]), "the output", shape=(1, 2), dtype="float64")
    expect_close(values, [[1.0, 2.0]], rtol=0, atol=0, what="the output")
    with pytest.raises(Mistake, match=r"should have shape \(2,\), but it has shape \(1, 2\)"):
        expect_tensor(tensor([[1.0, 2.0]]), "the output", shape=(2,))


def test_expect_number_rejects_none_with_the_return_hint():
    with pytest.raises(Mistake) as excinfo:
        expect_number(Value("none"), "the loss")
    assert str(excinfo.value) == (
        "the loss should be a single number, but it is None.\nHint: did you forget the `return` statement?"
    )


# -- number_pair and preview -----------------------------------------------------------------------------


def test_number_pair_uses_four_digits_when_they_differ():
    assert number_pair(1.5, 2.5) == ("1.5", "2.5")
    assert number_pair(3.14159265, 2.71828182) == ("3.142", "2.718")


def test_number_pair_adds_digits_until_the_numbers_differ():
    assert number_pair(1.0, 1.00001) == ("1", "1.00001")
    assert number_pair(1.0, 1.0000001) == ("1", "1.0000001")
    assert number_pair(1.0, 1.000000001) == ("1", "1.000000001")
    assert number_pair(2.0, 2.00000000001) == ("2", "2.00000000001")


def test_number_pair_equal_numbers_at_twelve_digits():
    assert number_pair(0.1 + 0.2, 0.3) == ("0.3", "0.3")


def test_preview_rounds_and_elides():
    assert preview([1.0, 2.0, 3.0, 4.0, 5.0]) == "[1, 2, 3, 4, ...]"
    assert preview([0.123456, 2.0]) == "[0.1235, 2]"


def test_preview_flattens_and_takes_count():
    assert preview(np.arange(6.0).reshape(2, 3), count=2) == "[0, 1, ...]"
    assert preview(np.arange(3.0), count=3) == "[0, 1, 2]"
    assert preview([]) == "[]"


# -- float subclasses and models that carry code ---------------------------------------------------------


def test_a_float_subclass_is_read_as_its_number_but_is_not_a_float():
    value = Value("float_subclass", value=0.5, type_name="numpy.float64")
    assert expect_number(value, "accuracy") == 0.5
    expect_same_twice(value, Value("float_subclass", value=0.5, type_name="numpy.float64"), "accuracy")
    with pytest.raises(Mistake):  # the same number as a Python float is another answer
        expect_same_twice(value, Value("float", value=0.5), "accuracy")
    with pytest.raises(Mistake) as excinfo:
        expect_tensor(value, "the loss")
    assert "numpy.float64" in str(excinfo.value) and "NumPy number" in str(excinfo.value)


def test_a_model_with_hooks_is_refused_and_says_what_was_found():
    expect_plain_model(Value("module", type_name="torch.nn.modules.container.Sequential"), "make_mlp(2, [], 3)")
    hooked = Value("module", overrides=("a forward hook on layer 0", "the model has its own forward"))
    with pytest.raises(Mistake) as excinfo:
        expect_plain_model(hooked, "make_mlp(2, [], 3)")
    assert "a forward hook on layer 0; the model has its own forward" in str(excinfo.value)
    assert "Hint: " in str(excinfo.value)
