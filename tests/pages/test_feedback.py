"""Feedback pages: nbgrader renders the notebook, the hidden tests' results are next to it, escaped, and no
hidden test or reference code gets onto the page, not even what nbgrader itself would have put there.

The course is real: the kit's source notebook released by nbgrader (with a hidden-test region added to a
test cell, as an instructor might), one submission autograded by `nbgrader autograde` (which puts the
hidden tests back into the test cell and runs them), then our write_feedback.
"""

import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.release import release
from autograder.course import Course
from autograder.pages import feedback
from autograder.pages.evidence import MAX_POINTS, EvidenceError, read_evidence
from autograder.pages.feedback import cap_outputs, strip_hidden_tests, write_feedback

pytestmark = pytest.mark.slow

ASSIGNMENT = "line_fit"
FUNCTIONS = {"mse": 4, "sgd_step": 4, "train": 6, "loss_landscape": 3, "gradients": 3}
CANARY = 'assert mse(torch.zeros(3), torch.ones(3)).item() == 42.0, "HIDDEN-CANARY-ASSERT"'
NASTY = "expected 2.5, got 3.0 <script>alert('x')</script> & more"
STUDENT_CODE = {  # a student's own words: nothing here is copied from the reference
    "mse": """
    # my own mse: square the gaps and average them
    gap = y_pred - y_true
    return (gap * gap).mean()""",
    "sgd_step": """
    for param in params:
        if param.grad is None:
            continue
        param.data.sub_(lr * param.grad)""",
    "train": """
    history = []
    step = 0
    while step < n_steps:
        current = mse(model(x), y)
        history.append(float(current))
        for param in model.parameters():
            param.grad = None
        current.backward()
        sgd_step(model.parameters(), lr=lr)
        step += 1
    return history""",
    "loss_landscape": """
    residuals = a_grid[..., None] * x + b_grid[..., None] - y
    return residuals.pow(2).mean(-1)""",
    "gradients": """
    copies = [t.detach().clone().requires_grad_() for t in inputs]
    result = f(*copies)
    return tuple(g.detach() for g in torch.autograd.grad(result, copies))""",
}
PAGE_LIMIT = 1_500_000


# -- fabricated results in the Gradescope shape ------------------------------------------------------------


def make_evidence() -> dict:
    """What line_fit's train tests keep, in the documented shape (autograder/pages/evidence.py)."""
    x = [-math.pi + 2 * math.pi * i / 299 for i in range(300)]
    ends = [x[0], x[-1]]
    losses = [4 * math.exp(-i / 25) + 1.1 for i in range(100)]
    reference = [4 * math.exp(-i / 15) + 0.98 for i in range(100)]
    return {
        "train": {
            "figures": [
                {"title": "Your trained line against the data", "xlabel": "x", "ylabel": "y",
                 "caption": "Your model after train() (dashed) against the target line.", "alt": "your line",
                 "layers": [
                     {"type": "points", "x": x, "y": [-0.5 * v + 1.8 + math.sin(7 * v) for v in x], "role": "data"},
                     {"type": "line", "x": ends, "y": [-0.501840 * e + 1.802857 for e in ends], "role": "reference",
                      "label": "target"},
                     {"type": "line", "x": ends, "y": [-0.41 * e + 1.2 for e in ends], "role": "student",
                      "label": "yours"},
                 ]},
                {"title": "Training loss per step", "xlabel": "step", "ylabel": "loss (mse)", "log_y": True,
                 "caption": "Your losses (dashed) against the reference.", "alt": "loss curves",
                 "layers": [
                     {"type": "line", "x": list(range(100)), "y": reference, "role": "reference"},
                     {"type": "line", "x": list(range(100)), "y": losses, "role": "student"},
                 ]},
            ],
            "notes": [],
        }
    }  # fmt: skip


def make_results(evidence: dict | None = None, load_error: str | None = None) -> dict:
    tests = []
    for function, points in FUNCTIONS.items():
        tests.append(
            {
                "name": f"{function}: value matches on 2-D float64 inputs",
                "score": 0.0 if load_error else points / 2,
                "max_score": points / 2,
                "status": "failed" if load_error else "passed",
                "output": f"Not graded: {load_error}" if load_error else "",
                "tags": [function],
                "visibility": "visible",
            }
        )
        tests.append(
            {
                "name": f"{function}: keeps the shape of <b>its</b> input",
                "score": 0.0,
                "max_score": points / 2,
                "status": "failed",
                "output": f"{function}: {NASTY}",
                "tags": [function],
                "visibility": "visible",
            }
        )
    score = sum(t["score"] for t in tests)
    return {
        "score": score,
        "max_score": 20.0,
        "execution_time": 1.5,
        "output": f"This notebook could not be graded: {load_error}." if load_error else "Note: a <limit> was hit.",
        "tests": tests,
        "extra_data": {
            "assignment": ASSIGNMENT,
            "notebook": f"{ASSIGNMENT}.ipynb",
            "notebook_sha256": "0" * 64,
            "load_error": load_error,
            "hit_limit": False,
            "events": [],
            "isolation": "bwrap",
            "evidence": evidence if evidence is not None else {},
        },
    }


# -- the course: released and autograded by nbgrader itself ------------------------------------------------


def _nbgrader(course_root: Path, *args: str) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "MPLBACKEND")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), *args],
        cwd=course_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _cell(notebook: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def course(make_course) -> Course:
    made = make_course("feedback")
    course_root = made.root
    source_path = made.source / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    source = nbformat.read(source_path, as_version=4)
    test_cell = _cell(source, "test_mse")
    test_cell.source += f"\n### BEGIN HIDDEN TESTS\n{CANARY}\n### END HIDDEN TESTS\n"
    nbformat.write(source, source_path)
    released = release(made, ASSIGNMENT)

    submission = nbformat.read(released / f"{ASSIGNMENT}.ipynb", as_version=4)
    for function, code in STUDENT_CODE.items():
        cell = _cell(submission, f"{function}_solution")
        assert "raise NotImplementedError()" in cell.source
        cell.source = cell.source.replace("    # YOUR CODE HERE\n    raise NotImplementedError()", code.lstrip("\n"))
    folder = course_root / "submitted" / "alice" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(submission, folder / f"{ASSIGNMENT}.ipynb")
    _nbgrader(course_root, "autograde", ASSIGNMENT, "--student", "alice")

    autograded = nbformat.read(course_root / "autograded" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    restored = _cell(autograded, "test_mse")
    assert CANARY in restored.source, "nbgrader autograde should have put the hidden test back"
    assert "HIDDEN-CANARY-ASSERT" in json.dumps(restored.outputs), "and shown its failing assert"
    _set_comments(made)
    return made


def _set_comments(course: Course) -> None:
    """A TA's own comment on mse, and an automatic one (with markup) on train."""
    from autograder.gradebook.records import open_gradebook

    with open_gradebook(course) as gradebook:
        comment = gradebook.find_comment("mse_solution", ASSIGNMENT, ASSIGNMENT, "alice")
        comment.manual_comment = "Nice and short, well done."
        comment = gradebook.find_comment("train_solution", ASSIGNMENT, ASSIGNMENT, "alice")
        comment.auto_comment = "AUTO-COMMENT <img src=x onerror=alert(1)>"
        gradebook.db.commit()


@pytest.fixture(scope="module")
def pages(course) -> dict[str, str]:
    results = {
        "alice": make_results(make_evidence()),
        "bob": make_results(load_error="the file is not valid JSON (<unexpected> at line 1)"),
    }
    paths = write_feedback(course, ASSIGNMENT, results)
    assert set(paths) == {"alice", "bob"}
    for student, path in paths.items():
        assert path == course.feedback / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    return {student: path.read_text(encoding="utf-8") for student, path in paths.items()}


# -- reading a page ----------------------------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def page_text(page: str) -> str:
    """What a reader sees (tags gone, entities decoded): code highlighting splits lines into many spans."""
    parser = _Text()
    parser.feed(page)
    return "".join(parser.parts)


def block(page: str, function: str) -> str:
    """The results block of one function: from its opening <div> to the matching </div>."""
    start = page.rindex("<div", 0, page.index(f'id="results-{function}"'))
    depth = 0
    for tag in re.finditer(r"<div\b|</div>", page[start:]):
        depth += 1 if tag.group() == "<div" else -1
        if depth == 0:
            return page[start : start + tag.end()]
    raise AssertionError(f"the block of {function} is not closed")


def images(fragment: str) -> list[str]:
    return re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", fragment)


TRIVIAL = re.compile(r"^(import |from \S+ import |return$|pass$|else:|try:|finally:|continue$|break$)|^\W*$")


def public_text(course: Course) -> str:
    """What students hold anyway: the released folder (notebook cells, public tests, course_utils)."""
    released = course.release / ASSIGNMENT
    texts = []
    for path in sorted(released.rglob("*")):
        if path.suffix == ".ipynb":
            texts += [cell.source for cell in nbformat.read(path, as_version=4).cells]
        elif path.is_file() and path.suffix in (".py", ".ini", ".toml", ".txt", ".md"):
            texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


def secret_lines(course: Course) -> set[str]:
    """Every line of the hidden tests and the reference solution, but trivial ones (imports, brackets, a bare
    return...) and those a student already has (the released docstrings and signatures, a `loss.backward()`)."""
    files = [course.solutions / "line_fit.py"]
    files += [p for p in course.hidden_tests.rglob("*") if p.is_file() and p.suffix != ".pyc"]
    lines = {CANARY}
    for path in files:
        lines |= {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}
    public = public_text(course)
    return {line for line in lines if len(line) >= 8 and not TRIVIAL.match(line) and line not in public}


# -- the page ---------------------------------------------------------------------------------------------


def test_nbgrader_renders_the_students_notebook(pages):
    page = pages["alice"]
    text = page_text(page)
    assert "line_fit (Score:" in text  # nbgrader's own heading, from the gradebook
    assert "Grade cell: test_mse" in text
    assert "# my own mse: square the gaps and average them" in text  # the student's code
    assert "history.append(float(current))" in text
    assert "What is PyTorch?" in text  # the notebook's prose


def test_each_function_has_a_block_with_every_test(pages):
    page = pages["alice"]
    for function, points in FUNCTIONS.items():
        fragment = block(page, function)
        text = page_text(fragment)
        assert f"Hidden tests of {function}" in text
        assert f"Score: {points / 2:g} / {points:g}" in text
        assert f"{function}: value matches on 2-D float64 inputs" in text
        assert f"{function}: keeps the shape of <b>its</b> input" in text  # escaped, so shown as written
        assert f"{points / 2:g} / {points / 2:g}" in text and f"0 / {points / 2:g}" in text
        assert "passed" in text and "failed" in text
        assert f"{function}: {NASTY}" in text
    summary = page_text(page[page.index('id="course-results"') : page.index('id="results-mse"')])
    assert "Hidden tests of line_fit: 10 / 20 points" in summary
    assert "Note: a <limit> was hit." in summary


def test_each_block_follows_its_test_cell(pages):
    page = pages["alice"]
    for function in FUNCTIONS:
        cell = page.index(f'<a name="test_{function}"></a>')
        assert cell < page.index(f'id="results-{function}"') < cell + 20_000


def test_results_are_escaped(pages):
    page = pages["alice"]
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;/script&gt; &amp; more" in page
    assert "<b>its</b>" not in page
    assert "<limit>" not in page


def test_no_hidden_test_or_reference_source_on_the_page(course, pages):
    secrets = secret_lines(course)
    assert CANARY in secrets and "return ((y_pred - y_true) ** 2).mean()" in secrets
    for student, page in pages.items():
        text = page_text(page)
        leaked = sorted(line for line in secrets if line in text or html.escape(line) in page or line in page)
        assert not leaked, f"{student}'s page shows hidden or reference code: {leaked[:5]}"
        assert "BEGIN HIDDEN TESTS" not in text.upper() and "END HIDDEN TESTS" not in text.upper()
        assert "HIDDEN-CANARY" not in page


def test_only_a_tas_own_comment_is_shown(pages):
    page = pages["alice"]
    assert "Nice and short, well done." in page_text(page)
    assert "AUTO-COMMENT" not in page
    assert "onerror" not in page


def test_pictures_are_embedded_from_the_evidence(pages):
    page = pages["alice"]
    pictures = images(block(page, "train"))
    assert len(pictures) == 2
    assert all(src.startswith("data:image/png;base64,") for src in pictures)
    assert all(src.startswith("data:") for src in images(page))  # no picture is a separate file
    for function in FUNCTIONS.keys() - {"train"}:
        assert not images(block(page, function))


def test_without_evidence_there_is_no_picture(course):
    path = write_feedback(course, ASSIGNMENT, {"alice": make_results(evidence={})})["alice"]
    fragment = block(path.read_text(encoding="utf-8"), "train")
    assert not images(fragment) and "No pictures" not in page_text(fragment)


def test_pages_are_of_sensible_size(pages):
    for student, page in pages.items():
        assert len(page.encode("utf-8")) < PAGE_LIMIT, student


def test_an_unreadable_notebook_still_gets_a_page(pages):
    page = pages["bob"]
    text = page_text(page)
    assert "line_fit (Score: 0.0 / 20.0)" in text
    assert "Hidden tests of line_fit: 0 / 20 points" in text
    assert "Your notebook could not be graded: the file is not valid JSON (<unexpected> at line 1)" in text
    assert "<unexpected>" not in page
    for function in FUNCTIONS:
        assert f"Hidden tests of {function}" in page_text(block(page, function))
    assert not images(block(page, "train"))
    assert "bootstrap" in page.lower() or ".panel" in page  # the same look as nbgrader's pages


def test_a_notebook_nbgrader_cannot_render_gets_a_page_of_ours(course):
    broken = course.autograded / "carol" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{ASSIGNMENT}.ipynb").write_text("{ not a notebook", encoding="utf-8")
    try:
        path = write_feedback(course, ASSIGNMENT, {"carol": make_results(make_evidence())})["carol"]
    finally:
        shutil.rmtree(broken.parent)
    text = page_text(path.read_text(encoding="utf-8"))
    assert "Your notebook itself cannot be shown" in text
    assert "Hidden tests of line_fit: 10 / 20 points" in text
    assert len(images(block(path.read_text(encoding="utf-8"), "train"))) == 2


def test_after_course_grade_recorded_a_submission(course):
    """The kit's own route: course grade records the submission and its results in nbgrader's folders."""
    from autograder.gradebook.records import record

    submitted = course.submitted / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    results = make_results(make_evidence())
    record(course, ASSIGNMENT, "dave", submitted, results)
    try:
        path = write_feedback(course, ASSIGNMENT, {"dave": results})["dave"]
        page = path.read_text(encoding="utf-8")
    finally:
        for stage in ("submitted", "autograded", "feedback"):
            shutil.rmtree(course.root / stage / "dave", ignore_errors=True)
    assert "line_fit (Score: 10.0 / 20.0)" in page_text(page)  # the gradebook's score, as recorded
    assert "# my own mse: square the gaps and average them" in page_text(page)
    for function in FUNCTIONS:
        assert f"Hidden tests of {function}" in page_text(block(page, function))


# -- the pieces --------------------------------------------------------------------------------------------


def test_strip_hidden_tests_removes_regions_and_unclosed_tails():
    source = 'check("mse")\n### BEGIN HIDDEN TESTS\nassert secret\n### END HIDDEN TESTS\nafter\n'
    assert strip_hidden_tests(source) == 'check("mse")\nafter\n'
    assert strip_hidden_tests("a\n# begin hidden tests\nsecret\nmore secret") == "a\n"


def test_outputs_are_capped():
    from nbformat.v4 import new_output

    outputs = [
        new_output("stream", name="stdout", text="x" * 50_000),
        new_output("display_data", data={"image/png": "A" * 600_000}),
        new_output("display_data", data={"image/png": "B" * 600_000}),
    ]
    kept = cap_outputs(outputs, [feedback.OUTPUT_BUDGET_CHARS])
    assert len(kept[0]["text"]) < 21_000 and "more characters not shown" in kept[0]["text"]
    assert kept[1]["data"]["image/png"] == "A" * 600_000
    assert kept[2]["output_type"] == "stream" and "not shown here" in kept[2]["text"]


def test_evidence_is_read_strictly():
    assert read_evidence({}, "train") is None and read_evidence(None, "train") is None
    evidence = make_evidence()
    points = evidence["train"]["figures"][0]["layers"][0]
    points["x"], points["y"] = points["x"] * 3, points["y"] * 3
    read = read_evidence(evidence, "train")
    assert len(read.figures[0].layers[0].x) == MAX_POINTS  # thinned to what a page needs
    broken_layers = (
        {"type": "points", "x": [1.0], "y": [1.0, 2.0]}, {"type": "line", "x": ["1"], "y": [2]},
        {"type": "points", "x": [True], "y": [1.0]}, {"type": "image", "x": [1.0], "y": [1.0]},
        {"type": "line", "x": [1.0], "y": [1.0], "role": "teacher"},
        {"type": "points", "x": [1.0], "y": [1.0], "classes": [99]},
        {"type": "regions", "x": [0, 1], "y": [0, 1], "classes": [[0, 1], [0]]},
        {"type": "regions", "x": [1, 0], "y": [0, 1], "classes": [[0]]},
    )  # fmt: skip
    for layer in broken_layers:
        bad = make_evidence()
        bad["train"]["figures"][0]["layers"].append(layer)
        with pytest.raises(EvidenceError):
            read_evidence(bad, "train")
    bad = make_evidence()
    bad["train"]["figures"] = "a picture"
    assert "No pictures: the record the grader kept is incomplete" in feedback.evidence_html(bad, "train")


def test_decision_regions_and_classes_are_drawn():
    grid = [[(r // 10 + c // 10) % 3 for c in range(40)] for r in range(30)]
    evidence = {"fit": {"figures": [{"title": "regions", "equal_aspect": True, "layers": [
        {"type": "regions", "x": [-1, 1], "y": [-1, 1], "classes": grid, "role": "student"},
        {"type": "points", "x": [0.1, -0.5, 0.7], "y": [0.2, 0.3, -0.9], "classes": [0, 1, 2], "role": "data"},
    ]}], "notes": ["a note"]}}  # fmt: skip
    fragment = feedback.evidence_html(evidence, "fit")
    assert len(images(fragment)) == 1 and "a note" in fragment


def test_non_finite_numbers_are_left_out_of_the_picture():
    evidence = make_evidence()
    evidence["train"]["figures"][1]["layers"][1]["y"] = [1.0, 10.0, 1e30, math.inf, math.nan]
    evidence["train"]["figures"][1]["layers"][1]["x"] = [0, 1, 2, 3, 4]
    read = read_evidence(evidence, "train")
    assert read.figures[1].layers[1].y == [1.0, 10.0, 1e30]
    assert len(images(feedback.evidence_html(evidence, "train"))) == 2


def test_results_json_is_not_copied_beside_the_page(course, pages):
    """results.json (grader details: limits, events, isolation) stays in autograded/; nbgrader copies the
    other files there (the release's helpers) as usual."""
    results = make_results(make_evidence())
    kept = course.autograded / "alice" / ASSIGNMENT / "results.json"
    kept.write_text(json.dumps(results))
    try:
        page = write_feedback(course, ASSIGNMENT, {"alice": results})["alice"]
    finally:
        kept.unlink()
    assert page.exists() and not (page.parent / "results.json").exists()


def test_formulas_are_mathml_and_the_page_fetches_nothing(pages):
    """Offline, MathJax from a CDN would leave raw TeX: formulas are MathML, drawn by the browser itself."""
    page = pages["alice"]
    assert page.count("<math") >= 5
    assert "$$" not in page_text(page) and "\\frac" not in page_text(page)
    assert not re.search(r"<script[^>]*\bsrc=", page), "no script is loaded from anywhere"
    assert not re.search(r"""<(img|link|iframe)[^>]*\b(src|href)=["']?https?:""", page), "nothing is fetched"


def test_markdown_math_to_mathml():
    from autograder.pages.math import markdown_with_mathml

    text = "Loss $L(a, b) = \\frac{1}{n}$ and\n\n$$ y = 3a^3 - b^2 $$\n\n`$not math$` and $5 and $10 cost \\$3"
    rendered = markdown_with_mathml(text)
    assert rendered.count("<math") == 2 and 'display="block"' in rendered
    assert "<code>$not math$</code>" in rendered and "$5 and $10" in rendered
