"""check("mse"): quick feedback on one function of the notebook from its public tests.

The public tests are ordinary pytest files in ``public_tests/`` next to the notebook. check() runs one of them
in this process, hands each test the function you defined in the notebook through the ``student`` fixture,
and prints one line per test instead of pytest's own report. Public tests are a smoke test: the hidden tests
decide the grade.
"""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

PUBLIC_TESTS_DIR = "public_tests"
INI_NAME = "pytest.ini"  # shipped in public_tests so that no other pytest configuration is picked up
REMINDER = "These are the public tests only: the hidden tests decide your grade."

Status = Literal["passed", "failed", "not_implemented", "missing", "error"]


@dataclass(frozen=True)
class TestLine:
    """One public test: what it checks, whether it passed, and a one-line hint if it did not."""

    description: str
    passed: bool
    hint: str = ""


@dataclass(frozen=True)
class CheckResult:
    """What check() found: passed out of total public tests, and the report it printed."""

    name: str
    passed: int
    total: int
    status: Status
    tests: tuple[TestLine, ...] = ()
    report: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        """True when every public test passed (which says nothing about the hidden tests)."""
        return self.status == "passed"

    def _ipython_display_(self) -> None:
        """The report is already printed: show nothing more as the cell's output."""


def _student_namespace() -> dict[str, Any]:
    """Where the notebook's functions live: the kernel's user namespace, or __main__ in a plain script."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None  # noqa: N806
    shell = get_ipython() if get_ipython is not None else None
    if shell is not None:
        return shell.user_ns
    return vars(sys.modules["__main__"])


def _make_plugin(function: Any) -> Any:
    """A pytest plugin object: the ``student`` fixture, and a record of how each test went.

    Built on demand so that importing course_utils does not import pytest.
    """
    import pytest

    class StudentPlugin:
        def __init__(self) -> None:
            self.outcomes: list[tuple[Any, Any]] = []  # (test item, excinfo or None), in the order run
            self.collection_errors: list[str] = []

        @pytest.fixture(name="student")
        def student(self) -> Any:
            """The notebook's function under test."""
            return function

        def pytest_collectreport(self, report: Any) -> None:
            if report.failed:
                self.collection_errors.append(_last_line(str(report.longrepr)))

        def pytest_runtest_makereport(self, item: Any, call: Any) -> None:
            if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
                self.outcomes.append((item, call.excinfo))

    return StudentPlugin()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _describe(item: Any) -> str:
    doc = getattr(getattr(item, "function", None), "__doc__", None)
    if doc and doc.strip():
        return doc.strip().splitlines()[0]
    return item.name.removeprefix("test_").replace("_", " ")


def _innermost_function(excinfo: Any) -> str:
    traceback = excinfo.tb
    name = ""
    while traceback is not None:
        name = traceback.tb_frame.f_code.co_name
        traceback = traceback.tb_next
    return name


def _hint(excinfo: Any) -> str:
    error = excinfo.value
    if isinstance(error, AssertionError):
        message = str(error).strip()
        return message.splitlines()[0] if message else "an assertion failed"
    message = str(error).strip().splitlines()
    return f"raised {type(error).__name__}" + (f": {message[0]}" if message else "")


def _test_file(name: str) -> Path:
    return Path.cwd() / PUBLIC_TESTS_DIR / f"test_{name}.py"


def _forget_modules(folder: Path) -> None:
    """Drop the public test modules pytest imported, so the next check() reads the files afresh."""
    for module_name, module in list(sys.modules.items()):
        module_file = getattr(module, "__file__", None)
        if module_file and Path(module_file).parent == folder:
            del sys.modules[module_name]


def _run_pytest(test_file: Path, plugin: Any) -> int:
    import pytest

    folder = test_file.parent
    ini = folder / INI_NAME
    args = [
        str(test_file),
        f"--rootdir={folder}",
        "--noconftest",
        "--import-mode=importlib",
        "--assert=plain",
        "--capture=sys",
        "--disable-plugin-autoload",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:faulthandler",
        "-p",
        "no:stepwise",
        "-q",
    ]
    if ini.is_file():
        args[1:1] = ["-c", str(ini)]
    _forget_modules(folder)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            return int(pytest.main(args, plugins=[plugin]))
    finally:
        _forget_modules(folder)


def _finish(name: str, status: Status, lines: list[str], tests: tuple[TestLine, ...] = ()) -> CheckResult:
    passed = sum(test.passed for test in tests)
    report = "\n".join([*lines, REMINDER])
    print(report)
    return CheckResult(name=name, passed=passed, total=len(tests), status=status, tests=tests, report=report)


def check(name: str) -> CheckResult:
    """Run the public tests of one function of the notebook, e.g. check("mse"), and print what they found.

    Never raises: whatever goes wrong is reported, and the returned result says how many passed.
    """
    try:
        return _check(name)
    except Exception as error:  # check() is a helper for students: report, do not crash the cell
        return _finish(name, "error", [f"{name}: the check could not run ({type(error).__name__}: {error})."])


def _check(name: str) -> CheckResult:
    test_file = _test_file(name)
    if not test_file.is_file():
        return _finish(
            name,
            "error",
            [
                f"{name}: could not find the public tests ({PUBLIC_TESTS_DIR}/test_{name}.py) in {Path.cwd()}.",
                "Open the notebook from its assignment folder, next to the public_tests folder, and run it from there.",
            ],
        )
    function = _student_namespace().get(name)
    if not callable(function):
        return _finish(name, "missing", [f"{name}: not defined yet: define {name} by running its cell first."])

    plugin = _make_plugin(function)
    exit_code = _run_pytest(test_file, plugin)
    if exit_code == 2 and not plugin.outcomes:  # pytest.ExitCode.INTERRUPTED
        return _finish(name, "error", [f"{name}: the check was interrupted."])
    if plugin.collection_errors or not plugin.outcomes:
        reason = plugin.collection_errors[0] if plugin.collection_errors else "no tests were found"
        return _finish(name, "error", [f"{name}: could not run the public tests ({reason})."])

    not_implemented = [
        excinfo for _, excinfo in plugin.outcomes if excinfo is not None and excinfo.errisinstance(NotImplementedError)
    ]
    if len(not_implemented) == len(plugin.outcomes):
        raiser = _innermost_function(not_implemented[0])
        if raiser and raiser != name and raiser != "<module>":
            message = f"{name}: {name} calls {raiser}, which is not implemented yet."
        else:
            message = f"{name} is not implemented yet: replace the line raise NotImplementedError() with your code."
        tests = tuple(TestLine(_describe(item), False, "not implemented yet") for item, _ in plugin.outcomes)
        return _finish(name, "not_implemented", [message], tests)

    tests = tuple(
        TestLine(_describe(item), excinfo is None, "" if excinfo is None else _hint(excinfo))
        for item, excinfo in plugin.outcomes
    )
    passed = sum(test.passed for test in tests)
    lines = [f"{name}: {passed}/{len(tests)} public tests passed"]
    for test in tests:
        lines.append(f"  ✓ {test.description}" if test.passed else f"  ✗ {test.description}")
        if not test.passed:
            lines.append(f"      hint: {test.hint}")
    return _finish(name, "passed" if passed == len(tests) else "failed", lines, tests)
