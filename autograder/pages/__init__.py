"""The HTML pages: per-student feedback, the class report, and the figures both draw."""
