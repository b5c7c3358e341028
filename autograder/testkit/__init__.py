"""What hidden-test authors import: checks that raise a student-readable Mistake, argument specs, handles
and the assignment's helpers module. See docs/authoring.md."""

from autograder.testkit.expect import (
    Mistake,
    expect,
    expect_close,
    expect_items,
    expect_number,
    expect_plain_model,
    expect_same_twice,
    expect_tensor,
    expect_unchanged,
    number_pair,
    preview,
    require_ok,
    shape_text,
)
from autograder.testkit.helpers import load_helpers
from autograder.testkit.values import Handle, Value, helper, spec_generator, spec_list, spec_tensor

__all__ = [
    "Handle",
    "Mistake",
    "Value",
    "expect",
    "expect_close",
    "expect_items",
    "expect_number",
    "expect_plain_model",
    "expect_same_twice",
    "expect_tensor",
    "expect_unchanged",
    "helper",
    "load_helpers",
    "number_pair",
    "preview",
    "require_ok",
    "shape_text",
    "spec_generator",
    "spec_list",
    "spec_tensor",
]
