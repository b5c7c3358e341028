"""The `course` command (also `python -m autograder`): one subcommand per stage of an assignment's life.

Every subcommand but `init`, `demo` and `bench` works on the course it is run in (the nearest folder upward
with nbgrader_config.py; `--course-root` overrides). This module only parses arguments and dispatches.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from autograder.course import Course, find_course
from autograder.errors import EXIT_GRADER_BUG, KitError

log = logging.getLogger("course")


def _course(args: argparse.Namespace) -> Course:
    return find_course(args.course_root)


def _init(args: argparse.Namespace) -> int:
    from autograder.authoring.scaffold import init_course

    course = init_course(Path(args.dir), examples=args.example or ())
    print(f"made a course in {course.root}" + (f" with {', '.join(args.example)}" if args.example else ""))
    return 0


def _new(args: argparse.Namespace) -> int:
    from autograder.authoring.scaffold import new_assignment

    written = new_assignment(_course(args), args.name)
    print(f"added {args.name}:\n" + "\n".join(f"  {path}" for path in written))
    return 0


def _release(args: argparse.Namespace) -> int:
    from autograder.authoring.release import release

    folder = release(_course(args), args.assignment)
    print(f"released {args.assignment} to {folder}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from autograder.authoring.check.findings import table
    from autograder.authoring.check.run import check_course

    replay = {}
    for pair in args.replay or ():
        test_id, _, seed = pair.rpartition("=")
        if not test_id or not seed.isdigit():
            raise KitError(f"--replay takes TEST_ID=SEED (as course check prints it), not {pair!r}")
        replay[test_id] = int(seed)
    if args.draws < 1:
        raise KitError("--draws must be at least 1")
    course = _course(args)
    names = [args.assignment] if args.assignment else []
    for name in names:
        course.assignment(name)  # an unknown name fails here, before anything runs
    found = check_course(course, names, draws=args.draws, with_mutants=not args.no_mutants, replay=replay,
                         progress=log.info)  # fmt: skip
    print("\n\n".join(table(name, findings) for name, findings in found.items()))
    return 1 if any(f.failed for findings in found.values() for f in findings) else 0


def _grade(args: argparse.Namespace) -> int:
    from autograder.gradebook.records import Recorder
    from autograder.grading.batch import format_table, grade_folder
    from autograder.grading.regrade import changes, format_changes, preview, read_all

    course = _course(args)
    assignment = course.assignment(args.assignment)
    out, submissions = Path(args.out), Path(args.submissions)
    options = dict(workers=args.workers, force=args.force, require_isolation=args.require_sandbox,
                   replay=args.replay, scheduler=args.scheduler, use_mtime=not args.ignore_mtime)  # fmt: skip
    if args.preview:
        planned, before, after = preview(assignment, submissions, out, **options)
        print(f"{planned.summary()}; a preview: nothing was written to {out} or the gradebook")
        print(format_changes(changes(before, after, [job.student for job in planned.todo]), before, after))
        return 0
    before, plans = read_all(out), []
    results = grade_folder(assignment, submissions, out, on_result=Recorder(course, args.assignment),
                           on_plan=plans.append, **options)  # fmt: skip
    print(format_table(results))
    print(plans[0].summary())
    changed = changes(before, results, [job.student for job in plans[0].todo])
    if changed:
        print(format_changes(changed, before, results))
        print(f"the results these replace are kept in {out}/<student>/previous/")
    print(f"results: {out}/<student>/results.json, {out / 'grades.csv'}, gradebook {course.db_url}")
    return 0


def _export(args: argparse.Namespace) -> int:
    course = _course(args)
    out = Path(args.out) if args.out else None
    if args.format == "canvas":
        from autograder.lms.canvas import export_canvas

        if not args.roster:
            raise KitError("--format canvas needs --roster ROSTER.csv (Canvas's gradebook export will do)")
        out, column, unknown = export_canvas(
            course, args.assignment, Path(args.roster), args.match_on, args.title, args.canvas_id, out
        )
        if unknown:
            log.warning("not on the roster, left out: %s", ", ".join(unknown))
        print(f"exported {args.assignment} for Canvas to {out} (column {column!r})")
        return 0
    from autograder.gradebook.export import write_export

    print(f"exported {args.assignment} to {write_export(course, args.assignment, out)}")
    return 0


def _graded(args: argparse.Namespace) -> tuple[Course, dict[str, dict]]:
    """The course and every student's results for the assignment; an error if nothing is graded."""
    from autograder.gradebook.folders import graded_results

    course = _course(args)
    results = graded_results(course, args.assignment)
    if not results:
        raise KitError(f"nothing graded yet for {args.assignment} in {course.root}: run course grade first")
    return course, results


def _feedback(args: argparse.Namespace) -> int:
    from autograder.pages.feedback import write_feedback

    course, results = _graded(args)
    pages = write_feedback(course, args.assignment, results, workers=args.workers)
    print(f"{len(pages)} feedback pages in {course.feedback}/<student>/{args.assignment}/")
    return 0


def _report(args: argparse.Namespace) -> int:
    from autograder.pages.report import write_report

    course, results = _graded(args)
    out = Path(args.out) if args.out else course.report_file(args.assignment)
    print(f"class report: {write_report(args.assignment, results, out)}")
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from autograder.lms.gradescope import build_autograder

    course = _course(args)
    path = build_autograder(course.assignment(args.assignment), visibility=args.visibility)
    print(f"Gradescope autograder for {args.assignment}: {path} (upload it as the assignment's autograder)")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from autograder.devtools.demo import run_demo

    run_demo(Path(args.dir), workers=args.workers)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from autograder.devtools.bench import run_bench, run_check_bench

    if args.check:
        run_check_bench()
        return 0
    run_bench(n=args.n, large_n=args.large_n, assignment=args.assignment, scheduler=args.scheduler)
    return 0


def _course_root_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--course-root", default=None, help="the course folder (default: the nearest one with nbgrader_config.py)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__.split("This module")[0].strip())
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="make a new course folder")
    init.add_argument("dir", help="the folder to make (it must not exist, or be empty)")
    init.add_argument(
        "--example", action="append", help="copy one of the kit's own assignments in, by name (may be repeated)"
    )
    init.set_defaults(run=_init)

    new = commands.add_parser("new", help="add an assignment to the course from a small working template")
    new.add_argument("name", help="the assignment's name (a Python identifier)")
    _course_root_option(new)
    new.set_defaults(run=_new)

    release = commands.add_parser("release", help="make the student version of an assignment with nbgrader")
    release.add_argument("assignment")
    _course_root_option(release)
    release.set_defaults(run=_release)

    check = commands.add_parser(
        "check", help="prove an assignment before release: reference, catalogue, thieves, mutants"
    )
    check.add_argument("assignment", nargs="?", help="one assignment (default: every assignment of the course)")
    check.add_argument("--draws", type=int, default=20, help="gradings of the reference on fresh inputs (default 20)")
    check.add_argument("--no-mutants", action="store_true", help="skip the mutants of the reference (the slow part)")
    check.add_argument("--replay", action="append", metavar="TEST_ID=SEED",
                       help="grade the reference once with this test's recorded seed (may be repeated)")  # fmt: skip
    _course_root_option(check)
    check.set_defaults(run=_check)

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
    grade.add_argument(
        "--preview", action="store_true",
        help="grade in a scratch folder and print what would change per student and function; write nothing",
    )  # fmt: skip
    grade.add_argument("--require-sandbox", action="store_true", help="fail instead of grading unisolated")
    grade.add_argument(
        "--ignore-mtime", action="store_true",
        help="with a due date: a file's modification time is not its submission time (only timestamp.txt is)",
    )  # fmt: skip
    grade.add_argument(
        "--scheduler", default=None,
        help="grade on a Dask cluster: tcp://HOST:PORT of its scheduler, or local:N for N local worker processes",
    )  # fmt: skip
    _course_root_option(grade)
    grade.set_defaults(run=_grade)

    for name, run, text in (
        ("export", _export, "per-test CSV of an assignment's grades (gradebook scores, manual ones included)"),
        ("feedback", _feedback, "one HTML feedback page per student, through nbgrader's generate_feedback"),
        ("report", _report, "one HTML class report for the instructor"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("assignment")
        _course_root_option(command)
        if name != "feedback":
            command.add_argument("--out", default=None, help="output file")
        else:
            command.add_argument("--workers", type=int, default=None, help="parallel renderers (default: one per core)")
        if name == "export":
            command.add_argument("--format", choices=("kit", "canvas"), default="kit", help="kit: per test; canvas")
            command.add_argument("--roster", help="canvas: the class roster CSV (Canvas's gradebook export will do)")
            command.add_argument("--canvas-id", help="canvas: the assignment's id (else read from the roster)")
            command.add_argument("--match-on", default="SIS Login ID", help="canvas: roster column = student id")
            command.add_argument("--title", help="canvas: the assignment's title in Canvas (default: its name)")
        command.set_defaults(run=run)

    gradescope = commands.add_parser("gradescope", help="a Gradescope autograder.zip that grades with the hidden tests")
    gradescope.add_argument("assignment")
    gradescope.add_argument(
        "--visibility", default="visible", choices=("visible", "after_published", "after_due_date", "hidden"),
        help="when students see each test's result on Gradescope",
    )  # fmt: skip
    _course_root_option(gradescope)
    gradescope.set_defaults(run=_gradescope)

    demo = commands.add_parser("demo", help="the whole pipeline on a throwaway course and a synthetic class")
    demo.add_argument("dir", nargs="?", default="demo_course", help="where the throwaway course is built")
    demo.add_argument("--workers", type=int, default=None)
    demo.set_defaults(run=_demo)

    bench = commands.add_parser("bench", help="course grade against nbgrader autograde on correct submissions")
    bench.add_argument("--n", type=int, default=20)
    bench.add_argument("--large-n", type=int, default=200, help="a larger class, to see how time grows")
    bench.add_argument("--assignment", default=None, help="which of the kit's assignments to grade")
    bench.add_argument("--scheduler", default=None, help="compare local grading with this Dask cluster (or local:N)")
    bench.add_argument("--check", action="store_true", help="time check() in a warm kernel for every graded function")
    bench.set_defaults(run=_bench)
    return parser


def _log_to_stderr(command: str) -> None:
    """What is not the command's answer (notes, warnings, a grader bug's traceback) goes to stderr, from the
    CLI's own logger and the engine's (one handler each, however often main runs in one process)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"course {command}: %(message)s"))
    for name in ("course", "autograder"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "course_cli", False)]:
            logger.removeHandler(old)
        handler.course_cli = True
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # nbformat and nbgrader import jsonschema, which imports rfc3987_syntax (if installed, as Jupyter's
    # dependencies make it) to check "iri" strings; building its grammar costs about 1.3 s in every course
    # command. No notebook or gradebook schema uses that format, so jsonschema is told it is absent.
    sys.modules.setdefault("rfc3987_syntax", None)
    _log_to_stderr(args.command)
    try:
        return args.run(args)
    except KitError as exc:
        log.error("error: %s", exc)
        return exc.exit_code
    except Exception:
        log.exception("the grader failed (a bug of the kit, not of your input); please report this traceback")
        return EXIT_GRADER_BUG


if __name__ == "__main__":
    sys.exit(main())
