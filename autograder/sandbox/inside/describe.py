"""Inside the sandbox: any value the student's code produced, described as plain data for the grader.

Exact types only: a subclass is reported as what it is, never as the class it pretends to be. Tensors
travel as float64 bytes with their dtype and shape; a model as its class, its children's types, its
parameters and buffers, its training flag and whatever changes what it computes (hooks, a forward of its
own, torch's methods replaced); an optimizer as its state_dict; a torch.Generator as its state; a subclass of
float (numpy.float64) as its number and its type. Anything else is "opaque" with its type's name. The
trusted side decodes all of it strictly.

Torch's classes and the methods read here are looked up when this module is imported, before any student
code runs, and compared by identity: a class can set its own __module__ and __qualname__, and student code
can rebind torch.nn.Sequential or patch torch.nn.Module, but neither changes what was found here.
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
MAX_OVERRIDES = 20  # hooks and overrides listed per model

TENSOR, PARAMETER, GENERATOR, MODULE, OPTIMIZER = (
    torch.Tensor, torch.nn.Parameter, torch.Generator, torch.nn.Module, torch.optim.Optimizer
)  # fmt: skip
NDARRAY = numpy.ndarray
NAMED_PARAMETERS, NAMED_BUFFERS = torch.nn.Module.named_parameters, torch.nn.Module.named_buffers
NAMED_CHILDREN, NAMED_MODULES = torch.nn.Module.named_children, torch.nn.Module.named_modules
MODULE_CALLS = {name: vars(torch.nn.Module)[name] for name in ("__call__", "_call_impl", "_wrapped_call_impl")}
MODULE_HOOKS = {  # a module's own hook dicts, and what each holds
    "_forward_pre_hooks": "a forward pre-hook",
    "_forward_hooks": "a forward hook",
    "_backward_pre_hooks": "a backward pre-hook",
    "_backward_hooks": "a backward hook",
}
GLOBAL_HOOKS = {name: getattr(torch.nn.modules.module, f"_global{name}") for name in MODULE_HOOKS}


def _torch_classes() -> dict[int, tuple[type, str]]:
    """torch's own module and optimizer classes, by id (a metaclass can lie to == and hash): (class, name)."""
    found = {}
    for namespace in (torch.nn, torch.nn.modules, torch.optim):
        for value in vars(namespace).values():
            if isinstance(value, type) and issubclass(value, MODULE | OPTIMIZER):
                found[id(value)] = (value, f"{value.__module__}.{value.__qualname__}")
    return found


TORCH_CLASSES = _torch_classes()
FORWARDS = {key: cls.forward for key, (cls, _) in TORCH_CLASSES.items() if issubclass(cls, MODULE)}


def type_name(value) -> str:
    kind = type(value)
    try:
        name = f"{kind.__module__}.{kind.__qualname__}"
    except Exception:
        name = "unknown type"
    return str(name)[:200]


def class_name(value) -> str:
    """torch's name for an object of one of torch's own classes (found by identity); any other class's own
    name, marked when it claims to be torch's."""
    kind = type(value)
    known = TORCH_CLASSES.get(id(kind))
    if known is not None and known[0] is kind:
        return known[1]
    name = type_name(value)
    return f"{name} (not torch's own class)" if name.startswith("torch.") else name


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
    if issubclass(kind, float):  # numpy.float64 and the like: the number it holds (read past any __float__)
        return {"kind": "float_subclass", "value": float.__float__(value), "type": type_name(value)}
    if kind is str:
        return {"kind": "str", "value": value[:MAX_MESSAGE_CHARS]}
    if kind in (list, tuple) and depth < MAX_DEPTH:
        items = [describe(item, depth + 1) for item in value[:MAX_ITEMS]]
        return {"kind": kind.__name__, "items": items, "length": len(value)}
    if kind is dict and depth < MAX_DEPTH:
        entries = [[str(key)[:200], describe(item, depth + 1)] for key, item in list(value.items())[:MAX_ENTRIES]]
        return {"kind": "dict", "entries": entries, "length": len(value)}
    if kind is TENSOR or kind is PARAMETER:
        return describe_tensor(value)
    if kind is NDARRAY:
        return describe_ndarray(value)
    if kind is GENERATOR:
        return {"kind": "generator", "state": describe_tensor(value.get_state())}
    if issubclass(kind, MODULE) and depth < MAX_DEPTH:
        return describe_module(value)
    if issubclass(kind, OPTIMIZER) and depth < MAX_DEPTH:
        return {"kind": "optimizer", "type": class_name(value), "state": describe(value.state_dict(), depth + 1)}
    name = type_name(value)
    if issubclass(kind, TENSOR):
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
    """Class, direct children (name and type), every named parameter and buffer, the training flag, and what
    changes what it computes (`overrides`). Read through torch.nn.Module's own methods, so a subclass cannot
    rename or hide its parameters."""
    named = [(n, describe(p, MAX_DEPTH)) for n, p in NAMED_PARAMETERS(module)][:MAX_ENTRIES]
    buffers = [(n, describe(b, MAX_DEPTH)) for n, b in NAMED_BUFFERS(module)][:MAX_ENTRIES]
    children = [[n, class_name(c)] for n, c in NAMED_CHILDREN(module)][:MAX_ENTRIES]
    return {
        "kind": "module",
        "type": class_name(module),
        "training": bool(module.training),
        "children": children,
        "parameters": [[n, d] for n, d in named],
        "buffers": [[n, d] for n, d in buffers],
        "overrides": overrides(module)[:MAX_OVERRIDES],
    }


def overrides(module) -> list[str]:
    """Whatever makes the model compute something other than its torch layers would: hooks (on its modules,
    on its parameters, or on every module), attributes that replace a method (a forward of its own), and
    torch's own forward or call machinery replaced. Each as a phrase a student can read."""
    found = []
    for name, hooks in GLOBAL_HOOKS.items():
        current = getattr(torch.nn.modules.module, f"_global{name}", None)
        if len(hooks) or current is not hooks:
            found.append(f"{MODULE_HOOKS[name]} registered for every module")
    found += [
        f"torch.nn.Module.{name} replaced" for name, fn in MODULE_CALLS.items() if vars(MODULE).get(name) is not fn
    ]
    for path, part in NAMED_MODULES(module):
        where = f"layer {path}" if path else "the model"
        own = vars(part)
        found += [f"{what} on {where}" for key, what in MODULE_HOOKS.items() if own.get(key)]
        found += [f"{where} has its own {key}" for key, item in own.items() if callable(item)]
        forward = FORWARDS.get(id(type(part)))
        if forward is not None and type(part).forward is not forward:
            found.append(f"the forward of {class_name(part)} replaced")
        for name, parameter in own.get("_parameters", {}).items():
            hooks = [getattr(parameter, key, None) for key in ("_backward_hooks", "_post_accumulate_grad_hooks")]
            if any(hooks):
                found.append(f"a gradient hook on {path + '.' if path else ''}{name}")
    return [str(item)[:200] for item in dict.fromkeys(found)]
