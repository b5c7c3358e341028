"""The class report, on a fabricated class whose numbers are known: histogram, pass rates worst first, the
most frequent failures, the slowest submissions, limits and unreadable notebooks, and escaping."""

import re
from html.parser import HTMLParser

import pytest

from autograder.pages.report import frequent_failures, pass_rates, report_html, slowest, troubled, write_report

ASSIGNMENT = "line_fit"
EVIL = "<script>alert('report')</script>"


def outcome(name: str, function: str, points: float, passed: bool, message: str = "") -> dict:
    return {
        "name": f"{function}: {name}",
        "score": points if passed else 0.0,
        "max_score": points,
        "status": "passed" if passed else "failed",
        "output": "" if passed else message,
        "tags": [function],
        "visibility": "visible",
    }


def student(
    mse_value: bool,
    mse_grad: bool,
    train_ok: bool,
    seconds: float,
    *,
    train_message: str = "the loss did not go down",
    load_error: str | None = None,
    events: list[str] | None = None,
) -> dict:
    tests = [
        outcome("value", "mse", 2, mse_value, "expected 2.5, got 3.0"),
        outcome("gradient", "mse", 2, mse_grad, "no gradient reached y_pred"),
        outcome("converges", "train", 6, train_ok, train_message),
    ]
    if load_error:
        tests = [{**t, "score": 0.0, "status": "failed", "output": f"Not graded: {load_error}"} for t in tests]
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": 10.0,
        "execution_time": seconds,
        "output": "",
        "tests": tests,
        "extra_data": {
            "assignment": ASSIGNMENT,
            "notebook": "line_fit.ipynb",
            "notebook_sha256": "0" * 64,
            "load_error": load_error,
            "hit_limit": bool(events),
            "events": events or [],
            "isolation": "bwrap",
            "evidence": {},
        },
    }


@pytest.fixture
def klass() -> dict[str, dict]:
    return {
        "ann": student(True, True, True, 1.0),  # 10
        "ben": student(True, False, True, 2.5),  # 8
        "cat": student(False, False, True, 0.5),  # 6
        "dan": student(True, False, False, 7.0, train_message=EVIL),  # 2
        "eve": student(True, False, False, 30.0, events=["time limit of 30 s hit in code cell 12 <cell>"]),  # 2
        "fay": student(False, False, False, 0.1, load_error="the notebook is not valid JSON <oops>"),  # 0
    }


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def section(page: str, title: str) -> str:
    start = page.index(f"<h2>{title}</h2>")
    end = page.find("<h2>", start + 1)
    return page[start : end if end > 0 else len(page)]


def test_pass_rates_are_computed_over_readable_submissions_worst_first(klass):
    rates = pass_rates(klass)
    assert [(r.name, r.passed, r.total) for r in rates] == [
        ("mse: gradient", 1, 5),
        ("train: converges", 3, 5),
        ("mse: value", 4, 5),
    ]
    assert rates[0].rate == pytest.approx(0.2) and rates[0].function == "mse" and rates[2].points == 2


def test_failures_are_grouped_by_test_and_identical_message(klass):
    failures = frequent_failures(klass)
    first = failures[0]
    assert (first.test, first.message, first.students) == (
        "mse: gradient",
        "no gradient reached y_pred",
        ("ben", "cat", "dan", "eve"),
    )
    by_key = {(f.test, f.message): f.count for f in failures}
    assert by_key[("train: converges", "the loss did not go down")] == 1
    assert by_key[("train: converges", EVIL)] == 1
    assert by_key[("mse: value", "expected 2.5, got 3.0")] == 1
    assert not any("Not graded" in f.message for f in failures)  # an unreadable file is not a mistake
    assert [f.count for f in failures] == sorted((f.count for f in failures), reverse=True)


def test_slowest_and_troubled(klass):
    assert [s for s, _, _ in slowest(klass, 3)] == ["eve", "dan", "ben"]
    assert troubled(klass) == [
        ("eve", "hit a limit", "time limit of 30 s hit in code cell 12 <cell>"),
        ("fay", "could not be read", "the notebook is not valid JSON <oops>"),
    ]


def test_the_page(klass, tmp_path):
    path = write_report(ASSIGNMENT, klass, tmp_path / "reports" / "line_fit.html")
    assert path == tmp_path / "reports" / "line_fit.html"
    page = path.read_text(encoding="utf-8")
    text = text_of(page)
    assert "6 submissions (5 readable)" in text
    assert "mean 4.67, median 4" in text

    pictures = re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", page)
    assert len(pictures) == 1 and pictures[0].startswith("data:image/png;base64,")
    assert "histogram" in section(page, "Scores")

    rates = text_of(section(page, "Pass rate per test"))
    assert rates.index("mse: gradient") < rates.index("train: converges") < rates.index("mse: value")
    assert "1 of 5 20%" in rates and "3 of 5 60%" in rates and "4 of 5 80%" in rates

    failures = text_of(section(page, "Most frequent failures"))
    assert "4 mse: gradient no gradient reached y_pred ben, cat, dan, eve" in failures

    slow = text_of(section(page, "Slowest submissions"))
    assert slow.index("eve 30.00 s") < slow.index("dan 7.00 s") < slow.index("ann 1.00 s")

    trouble = text_of(section(page, "Limits hit and unreadable notebooks"))
    assert "eve hit a limit time limit of 30 s hit in code cell 12 <cell>" in trouble
    assert "fay could not be read the notebook is not valid JSON <oops>" in trouble


def test_everything_from_results_is_escaped(klass):
    klass["<b>mallory</b>"] = student(False, False, False, 3.0, train_message=EVIL, events=[EVIL])
    page = report_html(ASSIGNMENT, klass)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;report&#x27;)&lt;/script&gt;" in page
    assert "<b>mallory</b>" not in page and "&lt;b&gt;mallory&lt;/b&gt;" in page
    assert "<oops>" not in page and "<cell>" not in page
    assert EVIL in text_of(page)  # shown as written


def test_a_class_without_failures_or_trouble(tmp_path):
    page = write_report(ASSIGNMENT, {"ann": student(True, True, True, 1.0)}, tmp_path / "r.html").read_text()
    assert "No test failed." in page
    assert "None: every notebook was read and ran within its limits." in page


def test_an_empty_class(tmp_path):
    page = write_report(ASSIGNMENT, {}, tmp_path / "r.html").read_text()
    assert "Class report: line_fit" in page and "<img" not in page
