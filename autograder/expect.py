"""What hidden tests raise when a student's answer is wrong: a message written for the student.

The grading plugin shows a Mistake's message and nothing else: no test source, no assert rewriting, no
reference code. Any other exception in a hidden test is reported as an internal grader error.
"""

from __future__ import annotations


class Mistake(AssertionError):
    """The student's answer is wrong; str(self) is what the student reads."""
