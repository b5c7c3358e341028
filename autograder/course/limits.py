"""Resource limits for student code and the isolation an assignment demands: the defaults, why each has its
value, and per-assignment overrides.

An assignment may override any limit in `hidden_tests/<assignment>/limits.toml`, e.g. `call_seconds = 20`.
Unknown keys or values of the wrong type are an error, so a typo cannot silently leave a default in place.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from autograder.errors import KitError

# Memory of one whole sandbox: its warm worker (~0.3 GB), every process a student starts, and the files in
# its scratch space. RLIMIT_AS (memory_mb below) is per process, so without this cap a student who forks 60
# processes may use 60 x memory_mb, and shared memory or tmpfs files escape RLIMIT_AS altogether. It is a
# memory cgroup, made where the host lets the grader make one; an assignment that raises memory_mb past
# about 3.5 GB must raise this too (`sandbox_memory_mb` below). Two workers at the cap use 8 GB.
SANDBOX_MEMORY_MB = 4096
# The sandbox's private /tmp, which holds the student's scratch space. It is a tmpfs: its files live in RAM
# and escape RLIMIT_AS, so it gets a size of its own. The line-fit notebook writes nothing there.
SCRATCH_MB = 512


@dataclasses.dataclass(frozen=True)
class Limits:
    # Address space on top of what the warm worker has mapped at fork (torch maps ~650 MB). The line-fit
    # notebook peaks at a few hundred MB (the loss landscape); 3 GiB leaves room and stops a 12 GiB hog,
    # and two workers at their limit still fit a 24 GiB machine many times over.
    memory_mb: int = 3072
    # Processes and threads of the student's uid. torch uses a handful; a fork bomb stops here.
    processes: int = 64
    # CPU seconds per student process. The reference notebook needs well under one.
    cpu_seconds: int = 60
    # Largest file the student's code may write (a write past it fails with EFBIG).
    file_size_mb: int = 16
    # Characters of printed output kept per cell or call; the rest is counted, not stored.
    output_chars: int = 20_000
    # Wall clock per notebook cell and per graded call. Reference calls take milliseconds.
    cell_seconds: float = 10.0
    call_seconds: float = 10.0
    # Wall clock for a whole submission, restarts included: a hostile notebook cannot stall the batch.
    submission_seconds: float = 120.0
    # Fresh processes a submission may be given after its process died or hung (the cell or call at
    # fault is skipped on the next start, so the functions that work still earn their points).
    restarts: int = 3
    # Where bubblewrap cannot isolate student code (a container without user namespaces, e.g. some hosted
    # autograders), grade anyway in a plain subprocess with these limits and a loud note (False), or refuse:
    # every test then fails saying grading is unavailable, not that the student's code is wrong (True).
    # `course grade --require-sandbox` asks the same for one batch; either one is enough (see
    # Limits.isolation_required), on every path: local, cluster, Gradescope.
    require_isolation: bool = False
    # The whole sandbox's memory cgroup (see SANDBOX_MEMORY_MB): raise it with memory_mb.
    sandbox_memory_mb: int = SANDBOX_MEMORY_MB
    # memory_mb is enforced as an address-space limit (RLIMIT_AS) on each student process, on top of the
    # memory cgroup. CUDA maps tens of GB of virtual memory it never touches, so a GPU assignment must turn
    # this off and rely on the cgroup cap alone; the sandbox refuses to start if it then has no cgroup cap.
    # Still to try on a GPU machine: the devices bwrap must bind (/dev/nvidia*), and whether the cap is
    # enough for the driver's pinned memory.
    address_space_limit: bool = True
    # The trusted side's own ceiling: address space each grading worker process of a local batch may map on
    # top of what it had at its start (RLIMIT_AS; 0: no ceiling). Importing torch maps about 0.5 GB of it
    # and grading the line-fit example 0.15 GB more; the decoding budget (testkit/values.py) keeps the worst reply a
    # sandbox can send to about 0.15 GB more again. 2 GiB leaves the hidden tests' references room and stops
    # a runaway grader long before the host: past it the submission being graded gets 0, and the batch goes on.
    grader_memory_mb: int = 2048

    def for_worker(self) -> dict:
        return dataclasses.asdict(self)

    def isolation_required(self, asked: bool = False) -> bool:
        """The one isolation policy: student code must be isolated when the assignment's limits.toml says so
        or the TA asked for it (--require-sandbox)."""
        return asked or self.require_isolation


class LimitsError(KitError, ValueError):
    """An assignment's limits.toml cannot be used; str(self) says what to fix."""


def load_limits(assignment_dir: Path) -> Limits:
    """Defaults, overridden by the assignment's limits.toml if it has one."""
    path = assignment_dir / "limits.toml"
    if not path.exists():
        return Limits()
    try:
        overrides = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LimitsError(f"{path}: {exc}") from None
    fields = {field.name: field for field in dataclasses.fields(Limits)}
    unknown = set(overrides) - set(fields)
    if unknown:
        raise LimitsError(f"{path}: unknown limit(s) {sorted(unknown)}; known: {sorted(fields)}")
    for key, value in overrides.items():
        default = getattr(Limits(), key)
        kinds = (bool,) if isinstance(default, bool) else (int,) if isinstance(default, int) else (int, float)
        if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, kinds):
            raise LimitsError(f"{path}: {key} must be {type(default).__name__}, like its default {default!r}")
        if not isinstance(value, bool) and value < 0:
            raise LimitsError(f"{path}: {key} cannot be negative")
    return dataclasses.replace(Limits(), **overrides)
