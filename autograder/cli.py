"""The `course` command (also `python -m autograder`): one subcommand per stage of an assignment's life."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent


def _release(args: argparse.Namespace) -> int:
    from autograder.authoring.release import release

    folder = release(args.assignment, Path(args.course_root))
    print(f"released {args.assignment} to {folder}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from autograder.gradebook import records as gradebook
    from autograder.grading.batch import grade_folder

    course_root = Path(args.course_root)
    out = Path(args.out)
    results = grade_folder(
        args.assignment, Path(args.submissions), out, workers=args.workers, force=args.force,
        require_isolation=args.require_sandbox, on_result=gradebook.Recorder(args.assignment, course_root),
        replay=args.replay,
    )  # fmt: skip
    print(format_table(results))
    print(f"results: {out}/<student>/results.json, {out / 'grades.csv'}, gradebook {gradebook.db_url(course_root)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from autograder.gradebook import records as gradebook

    course_root = Path(args.course_root)
    out = Path(args.out) if args.out else course_root / "exports" / f"{args.assignment}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(gradebook.export_csv(args.assignment, course_root), encoding="utf-8")
    print(f"exported {args.assignment} to {out}")
    return 0


def _graded(args: argparse.Namespace) -> tuple[Path, dict[str, dict]]:
    """The course root and every student's results for the assignment; an error if nothing is graded."""
    from autograder.gradebook import records as gradebook

    course_root = Path(args.course_root)
    results = gradebook.graded_results(args.assignment, course_root)
    if not results:
        raise ValueError(f"nothing graded yet for {args.assignment} in {course_root}: run course grade first")
    return course_root, results


def _feedback(args: argparse.Namespace) -> int:
    from autograder.pages.feedback import write_feedback

    course_root, results = _graded(args)
    pages = write_feedback(args.assignment, course_root, results)
    print(f"{len(pages)} feedback pages in {course_root / 'feedback'}/<student>/{args.assignment}/")
    return 0


def _report(args: argparse.Namespace) -> int:
    from autograder.pages.report import write_report

    course_root, results = _graded(args)
    out = Path(args.out) if args.out else course_root / "reports" / f"{args.assignment}.html"
    print(f"class report: {write_report(args.assignment, results, out)}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from autograder.devtools.demo import run_demo

    run_demo(Path(args.course_root), workers=args.workers)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from autograder.devtools.bench import run_bench

    run_bench(n=args.n, large_n=args.large_n)
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
    grade.add_argument(
        "--replay", action="store_true",
        help="regrade with the inputs of the last grading of the same notebook (seeds in OUT/<student>/results.json)",
    )  # fmt: skip
    grade.add_argument("--require-sandbox", action="store_true", help="fail instead of grading unisolated")
    grade.add_argument("--course-root", default=str(KIT_ROOT), help="course with the gradebook (nbgrader_config.py)")
    grade.set_defaults(run=_grade)

    for name, run, text in (
        ("export", _export, "per-test CSV of an assignment's grades (gradebook scores, manual ones included)"),
        ("feedback", _feedback, "one HTML feedback page per student, through nbgrader's generate_feedback"),
        ("report", _report, "one HTML class report for the instructor"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("assignment")
        command.add_argument("--course-root", default=str(KIT_ROOT))
        if name != "feedback":
            command.add_argument("--out", default=None, help="output file")
        command.set_defaults(run=run)

    demo = commands.add_parser("demo", help="the whole pipeline on a throwaway course and a synthetic class")
    demo.add_argument("--course-root", default=str(KIT_ROOT / "demo_course"), help="where the course is built")
    demo.add_argument("--workers", type=int, default=None)
    demo.set_defaults(run=_demo)

    bench = commands.add_parser("bench", help="course grade against nbgrader autograde on correct submissions")
    bench.add_argument("--n", type=int, default=20)
    bench.add_argument("--large-n", type=int, default=200, help="a larger class, to see how time grows")
    bench.set_defaults(run=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # nbformat and nbgrader import jsonschema, which imports rfc3987_syntax (if installed, as Jupyter's
    # dependencies make it) to check "iri" strings; building its grammar costs about 1.3 s in every course
    # command. No notebook or gradebook schema uses that format, so jsonschema is told it is absent.
    sys.modules.setdefault("rfc3987_syntax", None)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"course {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
