"""What hidden tests raise when a student's answer is wrong, and the checks that raise it.

The grading plugin shows a Mistake's message and nothing else: no test source, no assert rewriting, no
reference code. Any other exception in a hidden test is reported as an internal grader error. So every
check here says, in a student's words, what was expected and what came back (a few rounded numbers from
the failing input), and adds a hint where the mistake is a common one. The checks read only the plain
data the sandbox sent (`Value`s); nothing here touches an object the student made.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from autograder.sandbox.inside.protocol import ErrorKind
from autograder.testkit.calls import CallResult
from autograder.testkit.values import Value

MAX_MESSAGE_CHARS = 300  # of a student's exception message quoted back


class Mistake(AssertionError):
    """The student's answer is wrong; str(self) is what the student reads."""


# The share of its tolerance each passing expect_close used, kept while a test runs (see measuring_margins).
_margins: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("margins", default=None)


@contextlib.contextmanager
def measuring_margins() -> Iterator[list[float]]:
    """While inside, every passing expect_close appends how much of its tolerance the answer used (0: exact,
    1: at the tolerance) to the list it yields; `course check` reports the worst over its draws."""
    kept: list[float] = []
    token = _margins.set(kept)
    try:
        yield kept
    finally:
        _margins.reset(token)


def _used_tolerance(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> float:
    allowed = atol + rtol * np.abs(expected)
    gap = np.where(actual == expected, 0.0, np.abs(actual - expected))  # equal infinities: exact
    used = np.where(allowed > 0, gap / np.where(allowed > 0, allowed, 1.0), np.where(gap > 0, np.inf, 0.0))
    return float(used.max()) if used.size else 0.0


def expect(condition: bool, message: str, hint: str | None = None) -> None:
    """The one-off check: raise Mistake(message) unless condition holds."""
    if not condition:
        raise Mistake(_with_hint(message, hint))


# -- formatting ------------------------------------------------------------------------------------------


def _with_hint(message: str, hint: str | None) -> str:
    return f"{message}\nHint: {hint}" if hint else message


def shape_text(shape) -> str:
    return str(tuple(int(n) for n in shape))


def number_pair(expected: float, actual: float) -> tuple[str, str]:
    """Both numbers rounded to the fewest significant digits (4 to 12) that tell them apart."""
    for digits in (4, 6, 8, 10, 12):
        e, a = f"{expected:.{digits}g}", f"{actual:.{digits}g}"
        if e != a:
            break
    return e, a


def preview(array, count: int = 4) -> str:
    """The first few numbers of an array, rounded: enough for a student to recognise their output."""
    flat = np.asarray(array, dtype=np.float64).ravel()
    shown = ", ".join(f"{x:.4g}" for x in flat[:count])
    return f"[{shown}{', ...' if flat.size > count else ''}]"


def _index_text(index: tuple[int, ...]) -> str:
    return str(index[0]) if len(index) == 1 else str(tuple(int(i) for i in index))


# -- calls -----------------------------------------------------------------------------------------------


def require_ok(result: CallResult, fn: str, hints: Mapping[str, str] | None = None) -> Value:
    """The value the student's function returned, or a Mistake saying why there is none. `hints` maps a
    piece of an exception's message (case-insensitive) to advice for that exception."""
    if result.ok and result.value is not None:
        return result.value
    error = result.error
    kind, text = (error.type, error.message) if error else ("Error", "")
    where = f" (at {error.where})" if error and error.where else ""
    if kind == ErrorKind.NOT_IMPLEMENTED:
        raise Mistake(f"{fn} is not implemented yet: replace `raise NotImplementedError()` with your code{where}.")
    if kind == ErrorKind.MISSING:
        raise Mistake(f"{fn} is not defined: did its cell run? (Run the notebook top to bottom before submitting.)")
    if kind == ErrorKind.NOT_CALLABLE:
        raise Mistake(f"{fn} is not a function: a later cell seems to assign something else to that name.")
    if kind == ErrorKind.TIMEOUT:
        raise Mistake(f"{fn} did not finish in time ({text}). Look for a loop that never ends.")
    if kind == ErrorKind.TOO_LARGE:
        raise Mistake(f"{fn} {text}.")
    if kind in (ErrorKind.CRASHED, ErrorKind.UNAVAILABLE, ErrorKind.MALFORMED, ErrorKind.NOT_CALLED_AGAIN):
        raise Mistake(f"{fn} could not be graded: {text or 'the notebook process stopped'}.")
    message = f"{fn} raised {kind}: {text[:MAX_MESSAGE_CHARS]}{where}"
    hint = next((h for piece, h in (hints or {}).items() if piece.lower() in text.lower()), None)
    raise Mistake(_with_hint(message, hint))


# -- values ----------------------------------------------------------------------------------------------

_TYPE_HINTS = {
    "float": "return the tensor itself: .item() and float() turn it into a Python number, which autograd "
    "cannot differentiate.",
    "int": "return the tensor itself, not a Python number.",
    "ndarray": "stay in torch: a NumPy array has no autograd.",
    "none": "did you forget the `return` statement?",
}


def _type_hint(value: Value) -> str | None:
    name = value.type_name or ""
    if value.kind == "opaque" and "subclass" in name:
        return "return a plain torch.Tensor, not a subclass of it."
    if value.kind in ("opaque", "float_subclass") and name.startswith("numpy."):
        return "stay in torch: a NumPy number has no autograd."
    return _TYPE_HINTS.get(value.kind)


def expect_tensor(value: Value, what: str, shape=None, dtype: str | None = None, hint: str | None = None) -> np.ndarray:
    """The tensor's values as float64, if `value` is a plain torch.Tensor of this shape and dtype. Strict:
    a Python number, a NumPy array or a tensor subclass is a Mistake, whatever it holds."""
    if value.kind != "tensor":
        raise Mistake(_with_hint(f"{what} should be a torch.Tensor, but it is {value.describe()}.", _type_hint(value)))
    if shape is not None and tuple(value.shape) != tuple(shape):
        message = f"{what} should have shape {shape_text(shape)}, but it has shape {shape_text(value.shape)}."
        raise Mistake(_with_hint(message, hint))
    if dtype is not None and value.dtype != dtype:
        message = f"{what} should have dtype {dtype} (the inputs' dtype), but it has dtype {value.dtype}."
        hint = "compute in the inputs' dtype: no .float(), .double() or dtype= conversions."
        raise Mistake(_with_hint(message, hint))
    if value.array is None:
        raise Mistake(f"{what} could not be read: it is {value.describe()}, too large or not numeric.")
    return value.array


def expect_number(value: Value, what: str, hint: str | None = None) -> float:
    """A single number: a Python int or float (or a subclass of float, such as numpy.float64), or a tensor
    holding exactly one number. For checking a value whose type another test grades strictly."""
    if value.kind in ("int", "float", "float_subclass"):
        return float(value.value)
    if value.kind == "tensor" and value.array is not None and value.array.size == 1:
        return float(value.array.ravel()[0])
    message = f"{what} should be a single number, but it is {value.describe()}."
    raise Mistake(_with_hint(message, hint or _type_hint(value)))


def expect_items(value: Value, what: str, length: int, kinds: Sequence[str] = ("list",), hint: str | None = None):
    """The items of a list (or of one of `kinds`) of exactly `length` items."""
    if value.kind not in kinds:
        wanted = " or ".join(f"a {k}" for k in kinds)
        raise Mistake(_with_hint(f"{what} should be {wanted}, but it is {value.describe()}.", hint))
    if value.length != length:
        message = f"{what} should have {length} items, but it has {value.length}."
        raise Mistake(_with_hint(message, hint))
    return value.items


def expect_close(
    actual,
    expected,
    rtol: float,
    atol: float,
    what: str,
    hint: str | None = None,
    alternatives: Sequence[tuple[object, str]] = (),
) -> None:
    """actual ≈ expected elementwise (|actual - expected| <= atol + rtol * |expected|, no NaN). On failure
    the message shows the first wrong element; `alternatives` pairs a typical wrong answer with the hint to
    give when the student's answer matches it, otherwise `hint` is given."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        message = f"{what} should have shape {shape_text(expected.shape)}, but it has shape {shape_text(actual.shape)}."
        raise Mistake(_with_hint(message, hint))
    wrong = ~np.isclose(actual, expected, rtol=rtol, atol=atol)
    if not wrong.any():
        kept = _margins.get()
        if kept is not None:
            kept.append(_used_tolerance(actual, expected, rtol, atol))
        return
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    e, a = number_pair(expected[index], actual[index])
    if actual.size == 1:
        message = f"{what}: expected {e}, got {a}."
    else:
        count = f"{int(wrong.sum())} of {wrong.size} values are wrong"
        message = f"{what}: {count}; e.g. at index {_index_text(index)} expected {e}, got {a}."
    for typical, typical_hint in alternatives:
        typical = np.asarray(typical, dtype=np.float64)
        if typical.shape == actual.shape and np.allclose(actual, typical, rtol=max(rtol, 1e-4), atol=atol):
            hint = typical_hint
            break
    raise Mistake(_with_hint(message, hint))


def expect_plain_model(value: Value, what: str, hint: str | None = None) -> None:
    """A model that computes only what its torch layers compute: no hooks, no forward of its own, none of
    torch's methods replaced. The sandbox lists what it finds; checks of a model's type, layers or outputs
    call this first, since any of those changes what calling the model does."""
    if value.kind == "module" and value.overrides:
        found = "; ".join(value.overrides[:3]) + ("; ..." if len(value.overrides) > 3 else "")
        message = f"{what} carries code that changes what it computes ({found}), so it cannot be graded as a model."
        raise Mistake(_with_hint(message, hint or "use torch's layers as they are: no hooks, no forward of your own."))


def expect_unchanged(after: Value, before: np.ndarray, what: str, hint: str | None = None) -> None:
    """An input tensor after the call holds the same values as before and was never modified in place
    (torch counts in-place operations in a tensor's version)."""
    values = expect_tensor(after, what)
    if values.shape != before.shape:
        shapes = f"its shape was {shape_text(before.shape)}, now {shape_text(values.shape)}"
        message = f"{what} was changed by the call: {shapes}."
        raise Mistake(_with_hint(message, hint))
    changed = values != before
    if changed.any():
        index = tuple(int(i) for i in np.argwhere(changed)[0])
        where = f" at index {_index_text(index)}" if index else ""
        e, a = number_pair(before[index], values[index])
        raise Mistake(_with_hint(f"{what} was changed by the call: it held {e}{where}, now {a}.", hint))
    if after.version != 0:
        message = f"{what} was modified in place (an in-place operation ran on it, even if its values look the same)."
        raise Mistake(_with_hint(message, hint))


def same_value(first: Value, second: Value) -> bool:
    """Two answers are the same: same kind, type, dtype and shape, equal numbers (NaN equal to NaN), the same
    items, parameters and entries."""
    if (first.kind, first.dtype, first.shape, first.type_name, first.length) != (
        second.kind, second.dtype, second.shape, second.type_name, second.length
    ):  # fmt: skip
        return False
    if first.kind in ("bool", "int", "float", "float_subclass", "str"):
        return first.value == second.value or (first.value != first.value and second.value != second.value)
    if first.array is not None or second.array is not None:
        if first.array is None or second.array is None or not np.array_equal(first.array, second.array, equal_nan=True):
            return False
    pairs = [*zip(first.items, second.items, strict=False)]
    if first.fields.keys() != second.fields.keys():
        return False
    pairs += [(first.fields[name], second.fields[name]) for name in first.fields]
    return len(first.items) == len(second.items) and all(same_value(a, b) for a, b in pairs)


def expect_same_twice(first: Value, second: Value, what: str) -> None:
    """The second call with the same inputs must answer exactly as the first: a function that keeps state
    between calls (a .grad that accumulates, a global counter, a reused model) is wrong."""
    if not same_value(first, second):
        raise Mistake(
            f"{what} gave a different answer when called a second time with the same inputs "
            f"(first {first.describe()}, then {second.describe()}).\n"
            "Hint: the function seems to keep state between calls, e.g. a .grad that accumulates, a global, or a "
            "tensor or model kept from the last call. Make each call start afresh."
        )
