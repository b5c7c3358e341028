"""`python -m autograder` is the `course` command."""

from autograder.cli import main

raise SystemExit(main())
