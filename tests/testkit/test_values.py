"""The trusted decoder accepts plain data only, with strict types: a malformed reply never passes."""

import base64
import socket
import threading

import numpy as np
import pytest

from autograder.sandbox.inside.protocol import MAX_MESSAGE_VALUES, ProtocolError, receive, send
from autograder.testkit.values import (
    MAX_REPLY_BYTES,
    MAX_REPLY_VALUES,
    MAX_STR_CHARS,
    Budget,
    TooLarge,
    decode,
    spec_tensor,
)


def tensor_message(array, **extra):
    data = base64.b64encode(np.asarray(array, dtype=np.float64).tobytes()).decode()
    return {"kind": "tensor", "dtype": "float32", "shape": list(np.shape(array)), "data": data, **extra}


def test_tensor_round_trip():
    value = decode(tensor_message([[1.0, 2.0], [3.0, 4.5]], requires_grad=True, has_grad_fn=False))
    assert value.is_tensor and value.shape == (2, 2) and value.dtype == "float32"
    np.testing.assert_array_equal(value.array, [[1.0, 2.0], [3.0, 4.5]])
    assert value.requires_grad is True


@pytest.mark.parametrize(
    "message",
    [
        {"kind": "pickle", "data": "gASV"},  # unknown kinds are refused, whatever they claim to be
        {"kind": "bool", "value": 1},  # an int is not a bool
        {"kind": "int", "value": True},  # and a bool is not an int
        {"kind": "float", "value": "1.0"},
        {**tensor_message([1.0, 2.0]), "shape": [3]},  # data length does not match shape
        {**tensor_message([1.0]), "shape": [-1]},
        {**tensor_message([1.0]), "data": "not base64!"},
        {**tensor_message([1.0]), "requires_grad": "yes"},
        {"kind": "list", "items": "abc", "length": 3},
        {"kind": "opaque"},
        "just a string",
    ],
)
def test_malformed_values_are_protocol_errors(message):
    with pytest.raises(ProtocolError):
        decode(message)


def test_opaque_values_are_described_not_trusted():
    value = decode({"kind": "opaque", "type": "evil.LyingTensor (a torch.Tensor subclass)"})
    assert not value.is_tensor and value.array is None
    assert "subclass" in value.describe()


def test_spec_tensor_refuses_non_numeric():
    with pytest.raises(ValueError):
        spec_tensor(np.array(["a"]), dtype="str")


def test_strings_from_the_sandbox_are_cut_short():
    value = decode({"kind": "str", "value": "m" * 10_000_000})
    assert len(value.value) == 1_000 and len(value.describe()) < 1_100


def test_models_dicts_optimizers_and_generators_are_decoded_strictly():
    weight = spec_tensor(np.ones((2, 3)), "float32")
    module = {"kind": "module", "type": "torch.nn.modules.container.Sequential", "training": False,
              "children": [["0", "torch.nn.modules.linear.Linear"]], "parameters": [["0.weight", weight]],
              "buffers": [], "overrides": []}  # fmt: skip
    value = decode(module)
    assert value.kind == "module" and value.training is False and value.fields["0.weight"].shape == (2, 3)
    assert value.children == (("0", "torch.nn.modules.linear.Linear"),)
    broken = [
        {**module, "training": "yes"},
        {**module, "children": [["0"]]},
        {**module, "parameters": [["0.weight", weight], ["0.weight", weight]]},  # a name twice
        {**module, "parameters": [[1, weight]]},
        {key: item for key, item in module.items() if key != "overrides"},  # hooks unreported: not a model
        {**module, "overrides": [1]},
        {"kind": "dict", "entries": [["a", {"kind": "pickle"}]], "length": 1},
        {"kind": "generator", "state": {"kind": "int", "value": 3}},
        {"kind": "optimizer", "state": {"kind": "none"}},  # no type name
    ]
    for obj in broken:
        with pytest.raises(ProtocolError):
            decode(obj)
    state = {"kind": "dict", "entries": [["lr", {"kind": "float", "value": 0.1}]], "length": 1}
    optimizer = decode({"kind": "optimizer", "type": "torch.optim.adam.Adam", "state": state})
    assert optimizer.state.fields["lr"].value == 0.1 and optimizer.describe().endswith("torch.optim.adam.Adam")


def nones(n: int) -> dict:
    return {"kind": "list", "items": [{"kind": "none"}] * n, "length": n}


def test_one_reply_decodes_within_one_budget_of_values():
    """`[[None] * 100_000] * 39` is within every per-list limit; nested values count toward one budget."""
    with pytest.raises(TooLarge, match="returned a value too large to grade"):
        decode(nones(MAX_REPLY_VALUES))
    with pytest.raises(TooLarge):  # a list longer than what is left fails before its first item is decoded
        decode({"kind": "list", "items": ["not a value"] * 10, "length": 10}, budget=Budget(values=5))
    decode({"kind": "list", "items": [nones(48)] * 2, "length": 2}, budget=Budget(values=99))  # 1 + 2 * (1 + 48)
    with pytest.raises(TooLarge):
        decode({"kind": "list", "items": [nones(49)] * 2, "length": 2}, budget=Budget(values=99))
    budget = Budget(values=99)  # the result and the arguments after the call share one
    decode(nones(49), budget=budget)
    with pytest.raises(TooLarge):
        decode(nones(49), budget=budget)


def test_one_reply_decodes_within_one_budget_of_bytes():
    with pytest.raises(TooLarge):  # before its data is decoded
        decode({**tensor_message([1.0]), "shape": [MAX_REPLY_BYTES // 8 + 1]})
    kilobyte = tensor_message(np.zeros(128))
    decode({"kind": "tuple", "items": [kilobyte] * 4, "length": 4}, budget=Budget(bytes=4096))
    with pytest.raises(TooLarge):
        decode({"kind": "tuple", "items": [kilobyte] * 5, "length": 5}, budget=Budget(bytes=4096))
    text = {"kind": "str", "value": "x" * MAX_STR_CHARS}
    decode(text, budget=Budget(bytes=MAX_STR_CHARS))
    with pytest.raises(TooLarge):
        decode(text, budget=Budget(bytes=MAX_STR_CHARS - 1))


def test_a_message_of_too_many_values_is_refused_before_it_is_parsed():
    """Parsing 4 million `{"kind": "none"}` costs the reader a GB before any decoder can count them."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        message = {"op": "reply", "result": nones(MAX_MESSAGE_VALUES)}
        threading.Thread(target=send, args=(theirs, message)).start()
        with pytest.raises(ProtocolError, match="too large to grade"):
            receive(ours)
        message["result"] = nones(MAX_MESSAGE_VALUES - 10)
        threading.Thread(target=send, args=(theirs, message)).start()
        assert receive(ours) == message


def test_a_float_subclass_is_its_number_and_its_type():
    value = decode({"kind": "float_subclass", "value": 0.25, "type": "numpy.float64"})
    assert (value.kind, value.value, value.type_name) == ("float_subclass", 0.25, "numpy.float64")
    assert "numpy.float64" in value.describe() and "not a Python float" in value.describe()
    with pytest.raises(ProtocolError):
        decode({"kind": "float_subclass", "value": 0.25})  # no type: never mistaken for a plain float


def test_a_module_keeps_its_overrides():
    hooks = ["a forward hook on layer 0"] * 50
    module = {"kind": "module", "type": "torch.nn.modules.container.Sequential", "training": True,
              "children": [], "parameters": [], "buffers": [], "overrides": hooks}  # fmt: skip
    assert decode(module).overrides == ("a forward hook on layer 0",) * 20
