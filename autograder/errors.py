"""The kit's one error base class, and the exit code each kind of error gives `course`.

A `KitError` is the user's to fix (no course here, a bad limits.toml, a missing roster): the CLI prints its
message and exits 1. Anything else that escapes a command is a bug of the grader: the CLI logs its traceback
and exits 3. Every module may import this one; it imports nothing of the kit (floor 0).
"""

from __future__ import annotations

EXIT_USER_ERROR = 1  # the message says what to fix
EXIT_GRADER_BUG = 3  # the traceback is logged for whoever maintains the kit
# (argparse itself exits 2 for a command line it cannot parse)


class KitError(Exception):
    """Something the user can fix; str(self) says what to do."""

    exit_code = EXIT_USER_ERROR
