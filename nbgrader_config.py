"""nbgrader configuration of the kit's own course (line_fit, mlp_spirals): the course root is here."""

c = get_config()  # noqa: F821  (nbgrader injects get_config)

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "assignments"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.course_id = "pytorch-line-fit"
# Public tests and the student helpers ship with the release; nothing else is copied.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".pytest_cache"]
# Where the course kit finds each assignment's hidden tests (never released) and reference solutions.
c.CourseKit.hidden_tests_directory = "autograder/hidden_tests"
c.CourseKit.solutions_directory = "solutions"
