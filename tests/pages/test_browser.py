"""A hostile notebook's feedback page, and a class report full of markup, opened in Chromium (Debian's, through
Playwright) with the network off: the real score shows, the title is the kit's, no script or handler of the
student's runs, nothing of the kit's is hidden or covered, and the student's own pictures are drawn.

The notebook is line_fit's release with what a student out to fake a grade would add: a markdown cell with a
`<style>` that hides the results, a fake "20 / 20 points" panel, a full-page overlay, `<script>`, `<img onerror>`,
an iframe, SVG with onload, a javascript: link and markup inside TeX; a raw HTML cell; saved outputs of type
text/html (one "isolated", which nbconvert puts in an iframe), application/javascript and image/svg+xml; an
image width in its metadata that would open an attribute; a cell tag with a class in it; and notebook
metadata with a title and widget state. It is recorded as `course grade` records a submission, with a loss
figure of [1e308, -1e308], then `write_feedback` makes the page through nbgrader.
"""

from __future__ import annotations

import base64
import json
import shutil

import pytest

from autograder.authoring.release import release
from autograder.gradebook.records import record
from autograder.pages import figures
from autograder.pages.feedback import write_feedback
from autograder.pages.report import write_report
from tests.course_utils.test_browser import browser  # noqa: F401  (the fixture: Debian's chromium, headless)

pytestmark = pytest.mark.slow
ASSIGNMENT = "line_fit"
SCORE = "Hidden tests of line_fit: 7 / 20 points"
RUN = "window.pwned = (window.pwned || 0) + 1; document.title = 'pwned'"  # what every hostile script tries
PNG = base64.b64encode(figures.png_bytes(figures.new_figure(1.0, 1.0))).decode("ascii")
SVG = (
    f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="{RUN}"><script>{RUN}</script>'
    '<rect width="40" height="40" fill="red"/></svg>'
)
HOSTILE_MARKDOWN = f"""My own words about the loss.

<style>#course-results, .course-results, .panel-info {{ display: none !important; }}</style>
<div class="panel panel-info course-summary"><div class="panel-heading"><h4>Hidden tests of line_fit: 20 / 20 points
</h4></div></div>
<div style="position: fixed; top: 0; left: 0; width: 100%; height: 100%; background: white; z-index: 9999">
Hidden tests of line_fit: 20 / 20 points</div>
<script>{RUN}</script>
<img src="x" onerror="{RUN}">
<iframe srcdoc="<script>parent.pwned = 1; parent.document.title = 'pwned'</script>"></iframe>
{SVG}
<a id="jslink" href="javascript:{RUN}">see my results</a>
<details open ontoggle="{RUN}"><summary>more</summary></details>

$\\text{{<img src=x onerror="{RUN}">}}$ and $L = \\frac{{1}}{{n}}$

![my plot](data:image/png;base64,{PNG})
"""


def output(kind: str, data: dict, metadata: dict | None = None) -> dict:
    made = {"output_type": kind, "data": data, "metadata": metadata or {}}
    if kind == "execute_result":
        made["execution_count"] = 3
    return made


def hostile_notebook(released: dict) -> dict:
    notebook = json.loads(json.dumps(released))
    notebook["metadata"]["title"] = "pwned"
    notebook["metadata"]["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": {}, "x": f"</script><script>{RUN}</script>"}
    }
    code = {
        "cell_type": "code", "id": "hostile-code", "execution_count": 3,
        "metadata": {"tags": ["x navbar-fixed-top modal-backdrop"]}, "source": "show_my_results()",
        "outputs": [
            output("display_data", {"text/html": f"<b>my table</b><script>{RUN}</script><img src=x onerror=\"{RUN}\">"
                                    "<style>.course-results { visibility: hidden }</style>", "text/plain": "t"}),
            output("display_data", {"text/html": f"<script>{RUN}</script>"}, {"text/html": {"isolated": True}}),
            output("display_data", {"application/javascript": RUN, "text/plain": "js"}),
            output("display_data", {"image/svg+xml": SVG, "text/plain": "svg"}),
            output("execute_result", {"image/png": PNG, "text/plain": "<Figure>"},
                   {"image/png": {"width": f"50 onload=\"{RUN}\""}}),
        ],
    }  # fmt: skip
    raw = {"cell_type": "raw", "id": "hostile-raw", "metadata": {"raw_mimetype": "text/html"},
           "source": f"<script>{RUN}</script><style>body {{ display: none }}</style>"}  # fmt: skip
    markdown = {"cell_type": "markdown", "id": "hostile-markdown", "metadata": {}, "source": HOSTILE_MARKDOWN}
    notebook["cells"][1:1] = [markdown, raw, code]
    return notebook


EARNED = {"mse": (1, 4), "sgd_step": (0, 4), "train": (6, 6), "loss_landscape": (0, 3), "gradients": (0, 3)}


def results() -> dict:
    """7 of 20 points, and a loss figure of [1e308, -1e308] (what matplotlib raised on)."""
    tests = [
        {"name": f"{function}: value", "score": score, "max_score": points, "status": "passed" if score else "failed",
         "output": f"expected <b>{function}</b>", "tags": [function], "visibility": "visible"}
        for function, (score, points) in EARNED.items()
    ]  # fmt: skip
    losses = {"type": "line", "x": [0, 1], "y": [1e308, -1e308], "role": "student", "label": "yours"}
    evidence = {"train": {"figures": [{"title": "Training loss per step", "log_y": True, "layers": [losses]}]}}
    return {"score": 7.0, "max_score": 20.0, "execution_time": 1.0, "output": "", "tests": tests,
            "extra_data": {"assignment": ASSIGNMENT, "load_error": None, "evidence": evidence}}  # fmt: skip


@pytest.fixture(scope="module")
def feedback_page(make_course, tmp_path_factory):
    course = make_course("hostile")
    released = release(course, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    submitted = tmp_path_factory.mktemp("lms") / "mallory.ipynb"
    submitted.write_text(json.dumps(hostile_notebook(json.loads(released.read_text()))), encoding="utf-8")
    graded = results()
    record(course, ASSIGNMENT, "mallory", submitted, graded)
    page = write_feedback(course, ASSIGNMENT, {"mallory": graded}, workers=1)["mallory"]
    html = page.read_text(encoding="utf-8")
    assert "My own words about the loss." in html, "nbgrader should have rendered the notebook itself"
    yield page
    shutil.rmtree(course.root)


@pytest.fixture
def offline(browser):  # noqa: F811  (the fixture imported above)
    context = browser.new_context(offline=True)
    page = context.new_page()
    fired: list[str] = []
    page.on("dialog", lambda dialog: (fired.append(f"dialog {dialog.message}"), dialog.dismiss()))
    page.on(
        "request", lambda request: None if request.url.startswith(("file:", "data:")) else fired.append(request.url)
    )
    yield page, fired
    context.close()


def visible_and_on_top(page, selector: str) -> bool:
    """The element shows, and at its middle the browser finds it (or something inside it), not a cover."""
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    return element.is_visible() and page.eval_on_selector(
        selector,
        """element => { const box = element.getBoundingClientRect();
            const top = document.elementFromPoint(box.left + Math.min(20, box.width / 2), box.top + box.height / 2);
            return element.contains(top); }""",
    )


STUDENT_AREAS = ".text_cell_render, .output_subarea"  # markdown cells and outputs: the student's own HTML
NOTHING_RUNS = """() => {
    const bad = [];
    for (const element of document.querySelectorAll('*')) {
        for (const attribute of element.attributes) {
            const value = attribute.value.trim().toLowerCase();
            if (attribute.name.startsWith('on') || value.startsWith('javascript:')) {
                bad.push(element.outerHTML.slice(0, 120));
            }
        }
    }
    for (const tag of ['script', 'iframe', 'object', 'embed', 'svg', 'form', 'input', 'link', 'meta[http-equiv]']) {
        for (const element of document.querySelectorAll(tag)) bad.push(element.outerHTML.slice(0, 120));
    }
    return bad;
}"""


def test_a_hostile_notebooks_page_shows_the_real_score_and_runs_nothing(feedback_page, offline):
    page, fired = offline
    page.goto(feedback_page.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)  # a handler of an image that failed to load would have fired by now
    assert page.evaluate("window.pwned") is None
    assert page.title() == ASSIGNMENT and page.evaluate("document.title") == ASSIGNMENT
    assert page.evaluate(NOTHING_RUNS) == []
    page.click("text=see my results", timeout=5000)  # a javascript: link would run here, an onmouseover before
    assert page.evaluate("window.pwned") is None and page.title() == ASSIGNMENT
    assert fired == []
    styles = " ".join(page.eval_on_selector_all("style", "styles => styles.map(s => s.textContent)"))
    assert "display: none !important" not in styles and "visibility: hidden" not in styles
    styled = f":is({STUDENT_AREAS}) :is([style], [class*=panel], [class*=course], [id])"
    assert page.eval_on_selector_all(styled, "found => found.map(e => e.outerHTML.slice(0, 120))") == []

    assert visible_and_on_top(page, "#course-results")
    assert SCORE in page.inner_text("#course-results")
    for block in page.locator(".course-results").all():
        block.scroll_into_view_if_needed()
        assert block.is_visible()
    assert visible_and_on_top(page, "#results-train")
    assert page.locator(".course-results").count() == 5

    text = page.inner_text("body")
    assert "My own words about the loss." in text and "<script>" in text  # shown as written, not run
    widths = page.eval_on_selector_all(
        ".text_cell_render img, .output_png img, .output_svg img, #results-train img",
        "images => images.filter(i => i.getAttribute('src')?.startsWith('data:image/')).map(i => i.naturalWidth)",
    )
    assert len(widths) == 4 and all(width > 0 for width in widths), widths  # markdown, PNG, SVG, loss figure
    assert page.locator("math").count() >= 2


def test_a_class_report_full_of_markup_runs_nothing(offline, tmp_path):
    page, fired = offline
    evil = f'<script>{RUN}</script><img src=x onerror="{RUN}"><style>h1 {{ display: none }}</style>'
    klass = {}
    for i, name in enumerate([f"<b>mallory</b>{evil}", "ann"]):
        graded = results()
        graded["tests"][0]["output"] = evil
        graded["extra_data"].update(load_error=evil if i else None, hit_limit=True, events=[evil])
        klass[name] = graded
    path = write_report(ASSIGNMENT, klass, tmp_path / "report.html")
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert page.evaluate("window.pwned") is None
    assert page.title() == f"Class report: {ASSIGNMENT}" and fired == []
    assert page.evaluate(NOTHING_RUNS) == []
    assert page.locator("h1").is_visible() and "<script>" in page.inner_text("body")
