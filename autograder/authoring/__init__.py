"""The instructor's side: making a course, adding an assignment, releasing it to students."""
