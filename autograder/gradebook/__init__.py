"""nbgrader's gradebook and folders: recording grades, the course's student folders, the per-test export."""
