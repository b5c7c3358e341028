"""The grading process's own memory ceiling (Limits.grader_memory_mb), set once in each process that grades a
batch: a local grading worker, or a Dask worker at its first submission. Whatever a sandbox replies, decoding
it can then take no more than this from the host; past it, the submission being graded gets the MemoryError.
"""

from __future__ import annotations

import resource
from pathlib import Path


def cap_memory(megabytes: int) -> None:
    """Let this process map at most `megabytes` more than it has mapped now (RLIMIT_AS; 0: no cap). Past it
    an allocation fails with MemoryError, which costs the submission being graded, never the host."""
    if not megabytes:
        return
    try:  # what is mapped already (the parent's pages, for a forked worker) is not the grading's
        mapped = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    except OSError:  # no /proc (macOS): the cap is the whole address space
        mapped = 0
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)  # a lower limit already set (ulimit -v) stays
    cap = min(limit for limit in (mapped + megabytes * 2**20, soft, hard) if limit != resource.RLIM_INFINITY)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
