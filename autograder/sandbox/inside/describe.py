"""Inside the sandbox: any value the student's code produced, described as plain data for the grader.

Exact types only: a subclass is reported as what it is, never as the class it pretends to be. Tensors
travel as float64 bytes with their dtype and shape; a model as its class, its children's types, its
parameters and buffers and its training flag; an optimizer as its state_dict; a torch.Generator as its
state. Anything else is "opaque" with its type's name. The trusted side decodes all of it strictly.
"""

from __future__ import annotations

import base64

import numpy
import protocol
import torch

MAX_TENSOR_ELEMENTS = 2_000_000  # larger results are described without their data
MAX_ITEMS = 100_000  # list/tuple items described per value
MAX_ENTRIES = 1_000  # a model's parameters and buffers, a dict's entries
MAX_MESSAGE_CHARS = 2_000  # error messages and strings, per value
MAX_DEPTH = 4


def type_name(value) -> str:
    kind = type(value)
    try:
        name = f"{kind.__module__}.{kind.__qualname__}"
    except Exception:
        name = "unknown type"
    return str(name)[:200]


def describe(value, depth: int = 0) -> dict:
    """Plain-data description of any value."""
    kind = type(value)
    if value is None:
        return {"kind": "none"}
    if kind is bool:
        return {"kind": "bool", "value": value}
    if kind is int:
        return {"kind": "int", "value": value} if abs(value) < 2**63 else {"kind": "opaque", "type": "int"}
    if kind is float:
        return {"kind": "float", "value": value}
    if kind is str:
        return {"kind": "str", "value": value[:MAX_MESSAGE_CHARS]}
    if kind in (list, tuple) and depth < MAX_DEPTH:
        items = [describe(item, depth + 1) for item in value[:MAX_ITEMS]]
        return {"kind": kind.__name__, "items": items, "length": len(value)}
    if kind is dict and depth < MAX_DEPTH:
        entries = [[str(key)[:200], describe(item, depth + 1)] for key, item in list(value.items())[:MAX_ENTRIES]]
        return {"kind": "dict", "entries": entries, "length": len(value)}
    if kind is torch.Tensor or kind is torch.nn.Parameter:
        return describe_tensor(value)
    if kind is numpy.ndarray:
        return describe_ndarray(value)
    if kind is torch.Generator:
        return {"kind": "generator", "state": describe_tensor(value.get_state())}
    if isinstance(value, torch.nn.Module) and depth < MAX_DEPTH:
        return describe_module(value)
    if isinstance(value, torch.optim.Optimizer) and depth < MAX_DEPTH:
        return {"kind": "optimizer", "type": type_name(value), "state": describe(value.state_dict(), depth + 1)}
    name = type_name(value)
    if isinstance(value, torch.Tensor):
        name += " (a torch.Tensor subclass)"
    return {"kind": "opaque", "type": name}


def _data_field(array64) -> str:
    return base64.b64encode(array64.tobytes()).decode()


def describe_tensor(t, with_grad: bool = True) -> dict:
    dtype = str(t.dtype).removeprefix("torch.")
    info = {
        "kind": "tensor",
        "dtype": dtype,
        "shape": list(t.shape),
        "requires_grad": bool(t.requires_grad),
        "has_grad_fn": t.grad_fn is not None,
        "is_leaf": bool(t.is_leaf),
        "version": int(t._version),
        "data": None,
    }
    if dtype in protocol.NUMERIC_DTYPES and t.numel() <= MAX_TENSOR_ELEMENTS:
        # A tensor on another device (a GPU) is described from a copy in host memory, with torch's own
        # methods called through the class (never the student's overrides). Still to try on a GPU machine:
        # the time of that copy for large tensors, and describing the device itself (info["device"]).
        plain = torch.Tensor.detach(t).to("cpu", torch.float64).contiguous().numpy()
        info["data"] = _data_field(plain)
    if with_grad:
        grad = t.grad if t.is_leaf else None  # only leaves accumulate .grad
        info["grad"] = None if grad is None else describe(grad)
    return info


def describe_ndarray(a) -> dict:
    info = {"kind": "ndarray", "dtype": str(a.dtype), "shape": list(a.shape), "data": None}
    if str(a.dtype) in protocol.NUMERIC_DTYPES and a.size <= MAX_TENSOR_ELEMENTS:
        info["data"] = _data_field(numpy.ascontiguousarray(a, dtype=numpy.float64))
    return info


def describe_module(module) -> dict:
    """Class, direct children (name and type), every named parameter and buffer, and the training flag.
    Read through torch.nn.Module's own methods, so a subclass cannot rename or hide its parameters."""
    named = [(n, describe(p, MAX_DEPTH)) for n, p in torch.nn.Module.named_parameters(module)][:MAX_ENTRIES]
    buffers = [(n, describe(b, MAX_DEPTH)) for n, b in torch.nn.Module.named_buffers(module)][:MAX_ENTRIES]
    children = [[n, type_name(c)] for n, c in torch.nn.Module.named_children(module)][:MAX_ENTRIES]
    return {
        "kind": "module",
        "type": type_name(module),
        "training": bool(module.training),
        "children": children,
        "parameters": [[n, d] for n, d in named],
        "buffers": [[n, d] for n, d in buffers],
    }
