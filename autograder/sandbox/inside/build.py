"""Inside the sandbox: the grader's argument specs (plain data) turned into the objects a student's function
receives, and what to report about each of them after the call.

Tensors, Python scalars, lists, tuples and one-shot generators are built here. Everything an assignment
needs beyond that (a model with given weights, an optimizer, a seeded torch.Generator, a function) is made
by a function of the assignment's helpers module (spec kind "helper"). An object kept from an earlier call
(spec kind "handle") is passed back as it is.
"""

from __future__ import annotations

import base64

import numpy
import torch


class BadSpec(ValueError):
    """The grader asked for something that cannot be built here (an unknown helper, a stale handle)."""


def build(spec: dict, helpers, handles: dict):
    """(the object passed to the student's function, what to describe about it after the call)."""
    kind = spec["kind"]
    if kind in ("none", "bool", "int", "float", "str"):
        return spec.get("value"), None
    if kind == "tensor":
        t = build_tensor(spec)
        return t, t
    if kind in ("list", "tuple", "generator"):
        built = [build(item, helpers, handles) for item in spec["items"]]
        objects = [obj for obj, _ in built]
        tracked = ("items", [track for _, track in built])
        if kind == "list":
            return objects, tracked
        if kind == "tuple":
            return tuple(objects), tracked
        return (obj for obj in objects), tracked
    if kind == "helper":
        made = helper(spec["name"], helpers)(*[build(item, helpers, handles)[0] for item in spec["args"]])
        return made, ("object", made)
    if kind == "handle":
        if spec["id"] not in handles:
            raise BadSpec(f"no object kept under handle {spec['id']!r} in this process")
        kept = handles[spec["id"]]
        return kept, ("object", kept)
    raise BadSpec(f"unknown argument kind {kind!r}")


def helper(name: str, helpers):
    """A public function of the assignment's helpers module."""
    found = getattr(helpers, name, None) if helpers is not None and not name.startswith("_") else None
    if not callable(found):
        raise BadSpec(f"the assignment's helpers module has no function {name!r}")
    return found


def build_tensor(spec: dict):
    array = numpy.frombuffer(base64.b64decode(spec["data"]), dtype=numpy.float64).reshape(spec["shape"])
    t = torch.tensor(array, dtype=getattr(torch, spec["dtype"]))
    if spec.get("requires_grad"):
        t.requires_grad_(True)
    if spec.get("grad") is not None:
        t.grad = build_tensor(spec["grad"])
    return t
