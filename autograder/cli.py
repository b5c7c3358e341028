"""The `course` command (also `python -m autograder`): one subcommand per stage of an assignment's life."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent


def _release(args: argparse.Namespace) -> int:
    from autograder.release import release

    folder = release(args.assignment, Path(args.course_root))
    print(f"released {args.assignment} to {folder}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from autograder.batch import grade_folder

    results = grade_folder(
        args.assignment, Path(args.submissions), Path(args.out), workers=args.workers, force=args.force,
        require_isolation=args.require_sandbox,
    )  # fmt: skip
    print(format_table(results))
    print(f"results in {Path(args.out) / '<student>' / 'results.json'}; table in {Path(args.out) / 'grades.csv'}")
    return 0


def format_table(results: dict[str, dict]) -> str:
    width = max([len("student"), *map(len, results)])
    lines = [f"{'student':<{width}}  score"]
    for student, result in sorted(results.items()):
        flag = "  (could not be read)" if result.get("extra_data", {}).get("load_error") else ""
        lines.append(f"{student:<{width}}  {result['score']:g}/{result['max_score']:g}{flag}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="make the student version of an assignment with nbgrader")
    release.add_argument("assignment")
    release.add_argument("--course-root", default=str(KIT_ROOT), help="folder with nbgrader_config.py")
    release.set_defaults(run=_release)

    grade = commands.add_parser("grade", help="grade a folder of submissions with the hidden tests")
    grade.add_argument("assignment")
    grade.add_argument("submissions", help="nbgrader's submitted/ folder, or a flat folder of <student>.ipynb")
    grade.add_argument("--out", required=True, help="where results.json files and grades.csv go")
    grade.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: one per core)")
    grade.add_argument("--force", action="store_true", help="regrade notebooks that have not changed")
    grade.add_argument("--require-sandbox", action="store_true", help="fail instead of grading unisolated")
    grade.set_defaults(run=_grade)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"course {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
