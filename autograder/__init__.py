"""The trusted grader of the course kit: release, sandboxed grading with hidden tests, and the CLI."""
