"""Where grades go besides nbgrader's gradebook: a Gradescope autograder, and Canvas's gradebook import."""
