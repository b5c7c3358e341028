"""Plain data in both directions across the sandbox boundary, seen from the trusted side.

`spec_*` functions build the JSON argument specs the sandbox turns into tensors, models, generators and
functions. `decode` rebuilds what the sandbox sent into `Value`s, checking every field's type strictly:
a malformed message is a ProtocolError, never a pass. One reply decodes within one `Budget` of values and
bytes: a value past it is `TooLarge`, the student's error, before it can take the grader's memory. Nothing
here calls a method on an object the student made; those objects never leave the sandbox.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from autograder.sandbox.inside.protocol import NUMERIC_DTYPES, VALUE_KINDS, ProtocolError

MAX_DIMS = 8
MAX_STR_CHARS = 1_000
# One reply (a call's result and its arguments after the call), all nesting counted. Each Value costs the
# grader about 1 kB, so 100,000 of them stay near 100 MB; the largest reply of the kit's assignments is a
# few thousand (a training run's losses, a loader's batches). `[[None] * 100_000] * 39` is 3.9 million
# values in a 58 MB message, within every per-message and per-list limit: decoded, 3.7 GB.
MAX_REPLY_VALUES = 100_000
# Tensor data (as float64) and string characters in one reply. 48 MB is what the 64 MB message limit can
# carry in base64; this keeps a reply of many tensors from adding up to more than one could.
MAX_REPLY_BYTES = 48 * 1024 * 1024
TOO_LARGE = (
    f"returned a value too large to grade (over {MAX_REPLY_VALUES:,} values or {MAX_REPLY_BYTES // 2**20} MB "
    "in all, nested values counted)"
)
MAX_OVERRIDES = 20  # a module's hooks and overrides kept


# -- argument specs (grader -> sandbox) ------------------------------------------------------------------


def _data(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.float64).tobytes()).decode()


def spec_tensor(array, dtype: str | None = None, requires_grad: bool = False, grad=None) -> dict:
    array = np.asarray(array)
    dtype = dtype or str(array.dtype)
    if dtype not in NUMERIC_DTYPES:
        raise ValueError(f"cannot send a tensor of dtype {dtype}")
    spec = {"kind": "tensor", "dtype": dtype, "shape": list(array.shape), "data": _data(array),
            "requires_grad": requires_grad}  # fmt: skip
    if grad is not None:
        spec["grad"] = spec_tensor(grad, dtype)
    return spec


def spec_list(items: Sequence, kind: str = "list") -> dict:
    return {"kind": kind, "items": [to_spec(item) for item in items]}


def spec_generator(items: Sequence) -> dict:
    """The student's function receives a one-shot generator over these items."""
    return spec_list(items, kind="generator")


def helper(name: str, *args) -> dict:
    """The object `helpers.<name>(*args)` makes inside the sandbox, from the assignment's helpers module
    (a model with given weights, an optimizer over a kept model's parameters, a seeded generator, ...)."""
    return {"kind": "helper", "name": name, "args": [to_spec(arg) for arg in args]}


@dataclasses.dataclass(frozen=True)
class Handle:
    """An object that stayed in the sandbox (a call made with keep=True): pass it back as an argument, or
    call it with Submission.call_handle. Valid only in the process that made it."""

    id: int


def to_spec(value) -> dict:
    if isinstance(value, dict) and "kind" in value:
        return value
    if isinstance(value, Handle):
        return {"kind": "handle", "id": value.id}
    if isinstance(value, np.ndarray):
        return spec_tensor(value)
    for kind, python_type in (("bool", bool), ("int", int), ("float", float), ("str", str)):
        if type(value) is python_type:
            return {"kind": kind, "value": value}
    if value is None:
        return {"kind": "none"}
    if isinstance(value, list | tuple):
        return spec_list(value, kind=type(value).__name__)
    raise TypeError(f"cannot send {type(value).__name__} to the sandbox")


# -- decoded values (sandbox -> grader) ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Value:
    kind: str
    value: object = None  # bool, int, float or str (a float_subclass: the float it holds)
    array: np.ndarray | None = None  # tensor / ndarray contents as float64 (None if not sent)
    dtype: str | None = None
    shape: tuple[int, ...] | None = None
    requires_grad: bool = False
    has_grad_fn: bool = False
    is_leaf: bool = True
    version: int = 0
    grad: Value | None = None
    items: tuple[Value, ...] = ()
    length: int = 0
    type_name: str | None = None  # for opaque values, float subclasses, modules and optimizers
    fields: dict[str, Value] = dataclasses.field(default_factory=dict)  # a module's parameters, a dict's entries
    buffers: dict[str, Value] = dataclasses.field(default_factory=dict)  # a module's buffers
    children: tuple[tuple[str, str], ...] = ()  # a module's direct children: (name, type)
    training: bool | None = None  # a module's training flag
    overrides: tuple[str, ...] = ()  # a module's hooks, methods of its own, torch's methods replaced
    state: Value | None = None  # an optimizer's state_dict, a generator's state tensor

    @property
    def is_tensor(self) -> bool:
        return self.kind == "tensor"

    def describe(self) -> str:
        """What the student returned, in words a student understands."""
        if self.kind in ("bool", "int", "float", "str"):
            return f"a Python {self.kind} ({self.value!r})"
        if self.kind == "float_subclass":
            return f"a {self.type_name} ({self.value!r}), a subclass of float but not a Python float"
        words = _WORDS.get(self.kind, "an object of type {type_name}")
        shape = tuple(self.shape or ())
        return words.format(shape=shape, dtype=self.dtype, length=self.length, type_name=self.type_name)


# How Value.describe words each kind of value.
_WORDS = {
    "tensor": "a torch.Tensor of shape {shape} and dtype {dtype}",
    "ndarray": "a NumPy array of shape {shape}",
    "none": "None",
    "list": "a list of {length} items",
    "tuple": "a tuple of {length} items",
    "dict": "a dict of {length} entries",
    "module": "a model of type {type_name}",
    "optimizer": "an optimizer of type {type_name}",
    "generator": "a torch.Generator",
}


class TooLarge(ProtocolError):
    """The reply is well-formed but more than the grader decodes (see Budget): the student's error."""


@dataclasses.dataclass
class Budget:
    """What is left to decode of one reply; every decode() of that reply spends from the same one."""

    values: int = MAX_REPLY_VALUES
    bytes: int = MAX_REPLY_BYTES

    def spend(self, values: int = 0, nbytes: int = 0) -> None:
        self.afford(values, nbytes)
        self.values -= values
        self.bytes -= nbytes

    def afford(self, values: int = 0, nbytes: int = 0) -> None:
        """TooLarge unless this much is left: a list too long for the budget fails before its first item."""
        if values > self.values or nbytes > self.bytes:
            raise TooLarge(TOO_LARGE)


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ProtocolError(f"malformed value from the sandbox: {what}")


def _flag(obj: dict, key: str) -> bool:
    value = obj.get(key, False)
    _expect(type(value) is bool, f"{key} is not a boolean")
    return value


def _array(obj: dict, shape: tuple[int, ...], budget: Budget) -> np.ndarray | None:
    data = obj.get("data")
    if data is None:
        return None
    _expect(type(data) is str, "data is not a string")
    budget.spend(nbytes=8 * math.prod(shape))  # before the copy is made
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("malformed value from the sandbox: data is not base64") from None
    _expect(len(raw) == 8 * math.prod(shape), "data length does not match shape")
    return np.frombuffer(raw, dtype=np.float64).reshape(shape).copy()


def decode(obj, depth: int = 0, budget: Budget | None = None) -> Value:
    """The Value the sandbox described in `obj`. Pass one `budget` to every decode of the same reply."""
    budget = Budget() if budget is None else budget
    budget.spend(values=1)
    _expect(isinstance(obj, dict) and depth <= 6, "not an object")
    kind = obj.get("kind")
    _expect(kind in VALUE_KINDS, f"unknown kind {kind!r}")
    if kind == "none":
        return Value("none")
    if kind in ("bool", "int", "str"):
        python_type = {"bool": bool, "int": int, "str": str}[kind]
        _expect(type(obj.get("value")) is python_type, f"{kind} value has the wrong type")
        value = obj["value"][:MAX_STR_CHARS] if kind == "str" else obj["value"]  # it may end up in a message
        budget.spend(nbytes=len(value) if kind == "str" else 0)
        return Value(kind, value=value)
    if kind in ("float", "float_subclass"):
        value = obj.get("value")
        _expect(type(value) in (float, int), "float value has the wrong type")
        type_name = _type_name(obj) if kind == "float_subclass" else None
        return Value(kind, value=float(value), type_name=type_name)
    if kind in ("list", "tuple"):
        items = obj.get("items")
        length = obj.get("length")
        _expect(isinstance(items, list) and type(length) is int, "list without items")
        budget.afford(values=len(items))
        return Value(kind, items=tuple(decode(item, depth + 1, budget) for item in items), length=length)
    if kind in ("tensor", "ndarray"):
        dtype, shape = obj.get("dtype"), obj.get("shape")
        _expect(type(dtype) is str and len(dtype) < 40, "dtype is not a string")
        _expect(isinstance(shape, list) and len(shape) <= MAX_DIMS, "shape is not a list")
        _expect(all(type(n) is int and n >= 0 for n in shape), "shape has a bad dimension")
        shape = tuple(shape)
        array = _array(obj, shape, budget) if dtype in NUMERIC_DTYPES else None
        grad = obj.get("grad")
        version = obj.get("version", 0)
        _expect(type(version) is int, "version is not an int")
        return Value(
            kind, array=array, dtype=dtype, shape=shape, version=version,
            requires_grad=_flag(obj, "requires_grad"), has_grad_fn=_flag(obj, "has_grad_fn"),
            is_leaf=obj.get("is_leaf", True) is True,
            grad=None if grad is None else decode(grad, depth + 1, budget),
        )  # fmt: skip
    if kind == "dict":
        entries, length = obj.get("entries"), obj.get("length")
        _expect(isinstance(entries, list) and type(length) is int, "dict without entries")
        return Value(kind, fields=_named(entries, depth, budget), length=length)
    if kind == "module":
        children, training, overrides = obj.get("children"), obj.get("training"), obj.get("overrides")
        _expect(isinstance(children, list) and type(training) is bool, "module without children or training flag")
        _expect(all(_is_pair(c) and type(c[1]) is str for c in children), "module children are not name/type pairs")
        _expect(isinstance(overrides, list) and all(type(o) is str for o in overrides), "module overrides not strings")
        return Value(
            kind, type_name=_type_name(obj), training=training, children=tuple((n, t[:200]) for n, t in children),
            fields=_named(obj.get("parameters"), depth, budget), buffers=_named(obj.get("buffers"), depth, budget),
            overrides=tuple(o[:200] for o in overrides[:MAX_OVERRIDES]),
        )  # fmt: skip
    if kind == "optimizer":
        return Value(kind, type_name=_type_name(obj), state=decode(obj.get("state"), depth + 1, budget))
    if kind == "generator":
        state = decode(obj.get("state"), depth + 1, budget)
        _expect(state.kind == "tensor", "generator state is not a tensor")
        return Value(kind, state=state)
    return Value("opaque", type_name=_type_name(obj))


def _type_name(obj: dict) -> str:
    type_name = obj.get("type")
    _expect(type(type_name) is str, "value without a type name")
    return type_name[:200]


def _is_pair(item) -> bool:
    return isinstance(item, list) and len(item) == 2 and type(item[0]) is str


def _named(entries, depth: int, budget: Budget) -> dict[str, Value]:
    """[[name, value], ...] as a dict of decoded values; names must be strings, and unique."""
    _expect(isinstance(entries, list) and all(_is_pair(e) for e in entries), "entries are not name/value pairs")
    budget.afford(values=len(entries))
    named = {name[:200]: decode(value, depth + 1, budget) for name, value in entries}
    _expect(len(named) == len(entries), "an entry name appears twice")
    return named
