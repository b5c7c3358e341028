"""Figures survive any numbers: NaN, ±inf, ±1e308, all-missing and enormous evidence is drawn (clipped or left
out, with a note) or says it could not be drawn, and one student's figure or page never costs another's."""

import logging
import math
import time

import pytest

from autograder.pages import evidence, feedback, figures, report
from autograder.pages.evidence import LIMIT, MAX_LINE_POINTS, read_evidence
from autograder.pages.feedback import write_feedback

ASSIGNMENT = "line_fit"
WILD = {  # what a student's train() can return as its losses, and what the figure is given
    "1e308 and -1e308": [1e308, -1e308],
    "NaN and inf": [math.nan, math.inf, -math.inf, 1.0],
    "all NaN": [math.nan, math.nan],
    "denormal and huge": [5e-324, 1e308, 1.0],
    "one value": [2.0],
    "enormous": [1.0 + (i % 7) * 1e300 for i in range(200_000)],
}


def loss_figure(losses: list[float], log_y: bool, title: str = "Training loss per step") -> dict:
    steps = list(range(len(losses)))
    return {"title": title, "xlabel": "step", "ylabel": "loss", "log_y": log_y, "caption": "your losses",
            "layers": [{"type": "line", "x": steps, "y": losses, "role": "student", "label": "yours"},
                       {"type": "points", "x": steps[:3], "y": losses[:3], "role": "data"}]}  # fmt: skip


def images(html: str) -> int:
    return html.count('<img src="data:image/png;base64,')


@pytest.mark.parametrize("log_y", [True, False])
@pytest.mark.parametrize("case", WILD)
def test_wild_numbers_are_drawn(case, log_y):
    started = time.monotonic()
    html = feedback.evidence_html({"train": {"figures": [loss_figure(WILD[case], log_y)]}}, "train")
    assert images(html) == 1 and "Could not draw" not in html, html[-500:]
    assert time.monotonic() - started < 10


def test_what_is_clipped_or_left_out_is_said():
    figure = loss_figure([1e308, -1e308, math.nan, 3.0], log_y=True)
    kept = read_evidence({"train": {"figures": [figure]}}, "train")
    assert kept.figures[0].layers[0].y == [LIMIT, -LIMIT, 3.0]
    assert kept.notes == [
        "2 points with a coordinate that is not a finite number (NaN or infinite) are not drawn.",
        f"4 numbers beyond ±{LIMIT:g} are drawn at ±{LIMIT:g}.",  # 2 of the line, the same 2 among the points
    ]
    huge = read_evidence({"train": {"figures": [loss_figure(WILD["enormous"], log_y=False)]}}, "train")
    assert len(huge.figures[0].layers[0].y) == MAX_LINE_POINTS


def test_regions_far_out_are_clipped():
    layer = {"type": "regions", "x": [-1e308, 1e308], "y": [0, 1], "classes": [[0, 1], [1, 0]]}
    kept = read_evidence({"fit": {"figures": [{"title": "regions", "layers": [layer]}]}}, "fit")
    assert kept.figures[0].layers[0].x == [-LIMIT, LIMIT]
    assert images(feedback.evidence_html({"fit": {"figures": [{"title": "regions", "layers": [layer]}]}}, "fit")) == 1


def test_a_figure_that_cannot_be_drawn_says_so_and_the_others_are_drawn(monkeypatch, caplog):
    real_draw = figures.draw

    def draw(spec):
        if spec.title == "boom":
            raise ValueError("Axis limits cannot be NaN or Inf")  # what matplotlib raised on [1e308, -1e308]
        return real_draw(spec)

    monkeypatch.setattr(figures, "draw", draw)
    wanted = {"train": {"figures": [loss_figure([1.0, 0.5], True, "boom"), loss_figure([1.0, 0.5], True)]}}
    with caplog.at_level(logging.WARNING, logger=feedback.log.name):
        html = feedback.evidence_html(wanted, "train")
    assert 'Could not draw the picture "boom" from these numbers.' in html and images(html) == 1
    assert "could not draw the figure 'boom'" in caplog.text


def test_too_many_layers_is_not_a_picture():
    crowded = {"title": "crowded", "layers": [{"type": "line", "x": [0], "y": [0]}] * (evidence.MAX_LAYERS + 1)}
    html = feedback.evidence_html({"train": {"figures": [crowded]}}, "train")
    assert "No pictures" in html and images(html) == 0


def results(evidence: dict, score: float = 7.0) -> dict:
    test = {"name": "train: converges", "score": score, "max_score": 6.0, "status": "passed", "output": "",
            "tags": ["train"], "visibility": "visible"}  # fmt: skip
    return {"score": score, "max_score": 20.0, "execution_time": 1.0, "output": "", "tests": [test],
            "extra_data": {"assignment": ASSIGNMENT, "load_error": None, "evidence": evidence}}  # fmt: skip


def test_one_students_page_never_costs_the_next_one_theirs(make_course, monkeypatch, caplog):
    """No notebook in autograded/: every page is written here. ann's figures are wild, bob's page raises."""
    course = make_course("figures")
    real_page = feedback.standalone_page

    def page(assignment, student, results, note):
        if student == "bob":
            raise RecursionError("something nobody foresaw")
        return real_page(assignment, student, results, note)

    monkeypatch.setattr(feedback, "standalone_page", page)
    wild = {"train": {"figures": [loss_figure(WILD["1e308 and -1e308"], True), loss_figure([math.nan], False)]}}
    with caplog.at_level(logging.ERROR, logger=feedback.log.name):
        pages = write_feedback(course, ASSIGNMENT, {"ann": results(wild), "bob": results({}, 3), "cy": results({})})
    texts = {student: path.read_text(encoding="utf-8") for student, path in pages.items()}
    assert images(texts["ann"]) == 2 and "Hidden tests of <code>train</code>" in texts["ann"]
    assert "(Score: 3 / 20)" in texts["bob"] and "your TA finds the reason" in texts["bob"]
    assert "could not make bob's feedback page" in caplog.text and "RecursionError" in caplog.text
    assert "Hidden tests of <code>train</code>" in texts["cy"]


def test_the_class_report_survives_a_histogram_that_cannot_be_drawn(monkeypatch, tmp_path):
    def histogram(scores, max_score):
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(figures, "histogram_figure", histogram)
    page = report.write_report(ASSIGNMENT, {"ann": results({}), "bob": results({}, 1e308)}, tmp_path / "r.html")
    text = page.read_text(encoding="utf-8")
    assert "Could not draw the histogram of these scores." in text and "Pass rate per test" in text


def test_the_histogram_draws_extreme_scores():
    for scores, max_score in (([1e308, -1e308, 0.0], 20.0), ([5.0, 6.0], 1e308), ([0.0] * 100_000, 20.0)):
        assert figures.img_tag(figures.histogram_figure(scores, max_score), "h").startswith("<img")
