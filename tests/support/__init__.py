"""What several of the kit's tests share besides fixtures: the kit's root, notebook helpers, red-team tricks."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the kit's repository, itself a course
