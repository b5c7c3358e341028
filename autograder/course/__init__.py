"""The ground floor: what a course and an assignment are, read from their folders and nothing else.

layout.py (the course, its folders, its assignments, nbgrader_config.py read once), cells.py (notebooks as
data, grade-cell names), limits.py (resource limits and isolation), late.py (due dates and penalties),
imports.py (the course's Python files in the trusted process). Nothing here imports another floor of the kit.
"""

from autograder.course.imports import import_file
from autograder.course.layout import (
    CONFIG_NAME,
    HELPERS_NAME,
    Assignment,
    Course,
    CourseError,
    find_course,
    find_root,
)

__all__ = [
    "CONFIG_NAME",
    "HELPERS_NAME",
    "Assignment",
    "Course",
    "CourseError",
    "find_course",
    "find_root",
    "import_file",
]
