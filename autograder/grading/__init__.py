"""Grading: read a submitted notebook, run the hidden tests against it in the sandbox, grade a whole batch."""
