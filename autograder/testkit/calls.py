"""What one call into the sandbox gave back, as hidden tests receive it from `submission.call(...)`: plain
data (`Value`s) and, when it failed, a `CallError` whose kind is one of protocol.ErrorKind's names."""

from __future__ import annotations

import dataclasses

from autograder.testkit.values import Handle, Value


@dataclasses.dataclass(frozen=True)
class CallError:
    type: str  # the exception's class name, or Timeout / Crashed / Missing / Unavailable
    message: str
    where: str | None = None  # "line 3 of the cell that defines f", in the student's notebook

    def __str__(self) -> str:
        where = f" (at {self.where})" if self.where else ""
        return f"{self.type}: {self.message}{where}" if self.message else f"{self.type}{where}"


@dataclasses.dataclass(frozen=True)
class CallResult:
    ok: bool
    value: Value | None = None
    args_after: tuple[Value, ...] = ()
    backward_error: str | None = None
    error: CallError | None = None
    output: str = ""
    seconds: float = 0.0
    handle: Handle | None = None  # the result, kept in the sandbox (calls made with keep=True)
