"""`course` maps errors to exit codes in one place: a user's mistake prints its message and exits 1, a bug of
the grader logs its traceback and exits 3; argparse's own usage errors stay 2."""

from __future__ import annotations

import pytest

from autograder import cli
from autograder.course import CourseError
from autograder.course.late import LatePolicyError
from autograder.course.limits import LimitsError
from autograder.errors import EXIT_GRADER_BUG, EXIT_USER_ERROR, KitError
from autograder.grading.engine import GraderError
from autograder.lms.canvas import RosterError
from autograder.sandbox.launcher import IsolationRefused, SandboxError


@pytest.mark.parametrize("kind", [CourseError, LatePolicyError, LimitsError, RosterError, SandboxError,
                                  IsolationRefused, GraderError])  # fmt: skip
def test_every_user_error_is_a_kit_error(kind):
    assert issubclass(kind, KitError)


def test_a_user_error_is_its_message_and_exit_1(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["release", "line_fit"]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "not inside a course" in err and "Traceback" not in err


def test_a_grader_bug_is_logged_with_its_traceback_and_exit_3(capsys, monkeypatch):
    def broken(args):
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "_release", broken)
    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _rewired(parser(), broken))
    assert cli.main(["release", "line_fit"]) == EXIT_GRADER_BUG
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError: 'a bug'" in err and "a bug of the kit" in err


def _rewired(parser, run):
    for action in parser._subparsers._group_actions:
        action.choices["release"].set_defaults(run=run)
    return parser


def test_a_bad_command_line_is_argparse_exit_2():
    with pytest.raises(SystemExit) as exited:
        cli.main(["grade"])
    assert exited.value.code == 2
