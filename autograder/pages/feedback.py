"""Per-student HTML feedback: nbgrader's generate_feedback renders the notebook, we add the hidden tests' results.

The page is nbgrader's own (`feedback/<student>/<assignment>/<assignment>.html`, rendered from
`autograded/<student>/<assignment>/<assignment>.ipynb` with the gradebook's scores), with what nbgrader
gets wrong fixed on the way through:

- nbgrader shows the source of test cells, hidden tests included, and their outputs (failing asserts of
  hidden tests). Here every test cell loses its `### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS`
  regions (an unclosed region: everything after its start) and all of its outputs before rendering.
- nbgrader shows the automatic comment of each solution cell as Markdown turned into raw HTML, and our
  comments carry test messages, which can quote what a student's code produced. Only a TA's own
  (manual) comment is shown; the test results come in our blocks, HTML-escaped.
- The results of the hidden tests sit next to each test cell (`test_<function>`): every test's name,
  points, pass/fail and message, and the function's score; a summary with the total is at the top.
  Everything that came from results.json is inserted as escaped text.
- nbgrader copies the student's HTML into the page (markdown, raw cells, saved outputs, metadata), where
  it would run in the TA's browser and could hide or fake the results. Here the notebook is rebuilt from
  plain fields and every piece of HTML made from it goes through sanitize.py's allow-list: nothing of the
  student's runs, styles or frames; their pictures stay.
- A student's own cells are capped (long sources and prints cut, pictures beyond a budget dropped with a
  note), so a page stays a few hundred kilobytes to about a megabyte.
- A notebook nbgrader cannot render (unreadable, not in the gradebook) still gets a page in the same
  style, written here, with the score (0 when the notebook could not be read) and the reason.

Pictures come only from `extra_data.evidence` in results.json, never from running anything: the hidden tests
fill it with plain data in the shape evidence.py documents, and the block of each graded function draws its
own figures (embedded base64 PNGs) with its notes; a function without evidence gets no picture, a figure
that cannot be drawn says so. Whatever one student's page raises, the others are written.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import multiprocessing
import os
import re
import sys
from pathlib import Path
from typing import Any

from autograder.course import Course
from autograder.course.cells import GRADE_CELL_PREFIX
from autograder.grading.results import Results
from autograder.pages import figures, sanitize
from autograder.pages.evidence import EvidenceError, Figure, read_evidence
from autograder.pages.math import markdown_with_mathml
from autograder.pages.text import esc as _esc

log = logging.getLogger(__name__)
TEMPLATE_NAME = "course_feedback_page.html.j2"  # lives in memory: a DictLoader, never a file
SOURCE_CHARS = 50_000  # one cell's source (a pasted data dump must not make a page of megabytes)
OUTPUT_TEXT_CHARS = 20_000  # one print, repr or traceback of the student's own outputs
OUTPUT_BUDGET_CHARS = 900_000  # all of a notebook's outputs together (its plots are ~100 kB each)
HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"  # nbgrader's default delimiters

# nbgrader's feedback template, with the summary at the top of the notebook and a results block after
# each test cell. Only `resources.course`, built from escaped text in this module, is added.
TEMPLATE = """{%- extends 'index.html.j2' -%}
{% block body_header %}
{{ super() }}
{{ resources.course.summary }}
{% endblock body_header %}
{% block input %}
{{ super() }}
{%- if cell.metadata.nbgrader and cell.metadata.nbgrader.grade_id in resources.course.blocks -%}
{{ resources.course.blocks[cell.metadata.nbgrader.grade_id] }}
{%- endif -%}
{% endblock input %}
"""

MIN_PAGES_PER_WORKER = 4  # fewer pages than this per process: starting the process costs more than it saves
NO_MATHJAX = "{%- macro mathjax(url='') -%}{%- endmacro %}"
STYLE = """<style>
.course-summary h4 { margin: 0; }
.course-results { margin: 0.6em 0 1.2em 0; }
.course-results .panel-heading .pull-right { font-weight: normal; }
.course-tests { margin-bottom: 0; }
.course-tests td, .course-tests th { vertical-align: top; }
.course-tests pre, pre.course-output { white-space: pre-wrap; word-break: break-word; margin: 0; padding: 0;
  background: none; border: none; font-size: 12px; }
pre.course-output { padding: 0.5em; background: #fcf8e3; border: 1px solid #faebcc; margin-bottom: 0.8em; }
.course-status { white-space: nowrap; font-weight: bold; }
.course-passed .course-status { color: #3c763d; }
.course-failed .course-status { color: #a94442; }
.course-figures figure { display: inline-block; margin: 0.4em 1em 0.4em 0; vertical-align: top; }
.course-figures figcaption, .course-note { color: #555; font-size: 12px; }
.course-note { margin: 0.4em 0.6em; }
</style>"""


# -- HTML fragments, everything from results escaped -------------------------------------------------------


def _points(score: float, max_score: float) -> str:
    return f"{score:g} / {max_score:g}"


def _anchor(function: str) -> str:
    return "results-" + re.sub(r"[^A-Za-z0-9_-]", "-", function)


def evidence_html(evidence: Any, function: str) -> str:
    """The pictures a hidden test kept for this function, with their notes; a note if they are malformed."""
    try:
        kept = read_evidence(evidence, function)
    except EvidenceError as exc:
        return f'<p class="course-note">No pictures: the record the grader kept is incomplete ({_esc(exc)}).</p>'
    if kept is None:
        return ""
    parts = [figure_html(figure) for figure in kept.figures]
    parts += [f'<p class="course-note">{_esc(note)}</p>' for note in kept.notes]
    return '<div class="course-figures">' + "".join(parts) + "</div>" if parts else ""


def figure_html(figure: Figure) -> str:
    """One picture with its caption, or a note that it could not be drawn: a figure never costs a page."""
    try:
        image = figures.img_tag(figures.draw(figure), figure.alt or figure.title)
    except Exception as exc:  # matplotlib raises many kinds on numbers it cannot place
        log.warning("could not draw the figure %r: %s: %s", figure.title, type(exc).__name__, exc)
        return f'<p class="course-note">Could not draw the picture "{_esc(figure.title)}" from these numbers.</p>'
    return f"<figure>{image}<figcaption>{_esc(figure.caption)}</figcaption></figure>"


def function_block(results: Results, function: str) -> str:
    """A panel with every test of one graded function: name, points, passed or failed, message."""
    tests, evidence = results.by_function().get(function, []), results.evidence()
    score, max_score = results.function_totals(function)
    rows = []
    for test in tests:
        status = "&#10004; passed" if test.passed else "&#10008; failed"
        rows.append(
            f'<tr class="{"course-passed" if test.passed else "course-failed"}">'
            f"<td>{_esc(test.name)}</td>"
            f"<td>{_esc(_points(test.score, test.max_score))}</td>"
            f'<td class="course-status">{status}</td>'
            f"<td><pre>{_esc(test.output)}</pre></td></tr>"
        )
    pictures = evidence_html(evidence, function)
    return (
        f'<div class="panel panel-default course-results" id="{_anchor(function)}">'
        f'<div class="panel-heading"><strong>Hidden tests of <code>{_esc(function)}</code></strong>'
        f'<span class="pull-right">Score: {_esc(_points(score, max_score))}</span></div>'
        '<table class="table table-condensed course-tests">'
        "<thead><tr><th>test</th><th>points</th><th>result</th><th>message</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{pictures}</div>"
    )


def late_text(results: Results) -> str:
    """The lateness of a submission in words, with the raw score, the penalty and what is left."""
    late = results.late
    due = str(late.get("due") or "")[:16].replace("T", " ")
    extended = " (your extended due date)" if late.get("extended") else ""
    if not results.penalty:
        return f"Submitted on time: due {due} UTC{extended}. {late.get('reason', '')}".rstrip() + "."
    return (
        f"Submitted late: {late.get('reason', '')} (due {due} UTC{extended}). Tests: {results.score:g} points; late "
        f"penalty: -{results.penalty:g}; your score: {results.final_score:g} / {results.max_score:g}."
    )


def summary_html(assignment: str, results: dict, placed: set[str], note: str | None = None) -> str:
    """The top of the page: total, what went wrong overall, a table of functions, and the blocks of any
    function that has no test cell in the notebook (`placed` are those shown next to their cell)."""
    typed = Results.of(results)
    grouped = typed.by_function()
    score, max_score, extra = typed.score, typed.max_score, typed.extra
    parts = [STYLE, '<div class="panel panel-info course-summary" id="course-results">']
    parts.append(
        f'<div class="panel-heading"><h4>Hidden tests of {_esc(assignment)}: '
        f"{_esc(_points(score, max_score))} points</h4></div>"
    )
    parts.append('<div class="panel-body">')
    if extra.get("load_error"):
        parts.append(
            f"<p><strong>Your notebook could not be graded:</strong> {_esc(extra['load_error'])}. "
            "Every test counts as failed. Check that you submitted the right file, saved from Jupyter.</p>"
        )
    if note:
        parts.append(f"<p>{_esc(note)}</p>")
    if typed.late:
        parts.append(f"<p>{_esc(late_text(typed))}</p>")
    output = str(typed.data.get("output") or "").strip()
    if output:
        parts.append(f'<pre class="course-output">{_esc(output)}</pre>')
    parts.append(
        "<p>The grader ran hidden tests on each function you wrote, with fresh inputs. The results of each "
        "function follow its test cell below. The score in the page heading is the one in the gradebook: "
        "it includes any change your TA made by hand.</p>"
    )
    rows = []
    for function, tests in grouped.items():
        passed = sum(1 for t in tests if t.passed)
        function_score, function_max = typed.function_totals(function)
        rows.append(
            f'<tr><td><a href="#{_anchor(function)}"><code>{_esc(function)}</code></a></td>'
            f"<td>{_esc(_points(function_score, function_max))}</td><td>{passed} of {len(tests)}</td></tr>"
        )
    if rows:
        parts.append(
            '<table class="table table-condensed"><thead><tr><th>function</th><th>points</th>'
            f"<th>tests passed</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    for function in grouped:
        if function not in placed:
            parts.append(function_block(typed, function))
    parts.append("</div></div>")
    return "".join(parts)


# -- the nbgrader side ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def shown_markdown(source: str) -> str:
    """A markdown cell as the page shows it (MathML, sanitised). Cached: most cells are the assignment's own
    prose, the same for every student, and sanitising costs about as much as rendering."""
    return sanitize.clean_html(markdown_with_mathml(source))


def strip_hidden_tests(source: str, begin: str = HIDDEN_BEGIN, end: str = HIDDEN_END) -> str:
    """Drop every hidden-test region, delimiter lines included; an unclosed region runs to the end."""
    kept, hidden = [], False
    for line in source.splitlines(keepends=True):
        upper = line.upper()
        if begin.upper() in upper:
            hidden = True
        elif end.upper() in upper and hidden:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "".join(kept)


def _cap_text(text: str) -> str:
    if len(text) <= OUTPUT_TEXT_CHARS:
        return text
    return text[:OUTPUT_TEXT_CHARS] + f"\n... ({len(text) - OUTPUT_TEXT_CHARS} more characters not shown)\n"


def cap_outputs(outputs: list, budget: list[int]) -> list:
    """The student's own outputs, long texts cut and rich outputs dropped once `budget[0]` is spent."""
    from nbformat.v4 import new_output

    kept = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            output["text"] = _cap_text("".join(output.get("text", "")))
        elif kind == "error":
            output["traceback"] = _cap_text("\n".join(output.get("traceback", []))).split("\n")
        elif kind in ("display_data", "execute_result"):
            data = output.get("data", {})
            if "text/plain" in data:
                data["text/plain"] = _cap_text("".join(data["text/plain"]))
            size = sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values())
            if size > budget[0]:
                note = f"(an output of {size // 1000} kB is not shown here, to keep this page small)\n"
                kept.append(new_output("stream", name="stdout", text=note))
                continue
            budget[0] -= size
        kept.append(output)
    return kept


@dataclasses.dataclass
class _Student:
    results: dict
    grade_ids: dict[str, str]  # the notebook's test cells: grade_id -> function


def _nbgrader_classes():
    """nbgrader's pieces and our two preprocessors (imported late: nbgrader takes a while to import)."""
    from jinja2 import DictLoader, pass_context
    from nbconvert.exporters import HTMLExporter
    from nbconvert.preprocessors import Preprocessor
    from nbgrader import utils
    from nbgrader.preprocessors import GetGrades
    from traitlets import default

    class FeedbackExporter(HTMLExporter):
        """nbgrader's feedback HTML, through our template (held in memory; extra_loaders is not configurable)."""

        @default("extra_loaders")
        def _extra_loaders_default(self) -> list:
            # mathjax.html.j2 shadows nbconvert's: no script from a CDN (formulas are MathML, see math.py)
            return [DictLoader({TEMPLATE_NAME: TEMPLATE, "mathjax.html.j2": NO_MATHJAX})]

        def default_filters(self):
            # Every piece of HTML the templates make from a cell passes one of these two: the student's
            # markdown (cells, text/markdown outputs) and clean_html (raw cells, text/html outputs).
            yield from super().default_filters()
            yield ("markdown2html", self.markdown2html)
            yield ("clean_html", sanitize.clean_html)

        @pass_context
        def markdown2html(self, context, source: str) -> str:
            attachments = context.get("cell", {}).get("attachments")
            if attachments:
                return sanitize.clean_html(markdown_with_mathml(source, attachments))
            return shown_markdown(source)

    class ManualCommentsOnly(GetGrades):
        """nbgrader's GetGrades, but a solution cell shows only a TA's own comment: the automatic one
        repeats the test messages (already in our blocks) and nbgrader renders it as raw HTML."""

        def _get_comment(self, cell, resources) -> None:
            comment = self.gradebook.find_comment(
                cell.metadata["nbgrader"]["grade_id"], self.notebook_id, self.assignment_id, self.student_id
            )
            cell.metadata.nbgrader["comment"] = comment.manual_comment

    class HideTestsAddResults(Preprocessor):
        """Rebuilds the notebook from plain fields (sanitize.py), strips hidden tests and outputs from test cells,
        caps the rest, and puts our HTML in resources."""

        def __init__(self, assignment: str, students: dict[str, dict], delimiters: tuple[str, str], **kwargs):
            super().__init__(**kwargs)
            self.enabled = True
            self.assignment, self.students, self.delimiters = assignment, students, delimiters

        def preprocess(self, nb, resources):
            nb = sanitize.clean_notebook(nb)
            student = resources["nbgrader"]["student"]
            results = self.students[student]
            budget = [OUTPUT_BUDGET_CHARS]
            placed: dict[str, str] = {}
            grouped = Results.of(results).by_function()
            for cell in nb.cells:
                if len(cell.source) > SOURCE_CHARS:
                    cell.source = (
                        cell.source[:SOURCE_CHARS] + f"\n... ({len(cell.source) - SOURCE_CHARS} more characters)"
                    )
                if cell.cell_type != "code":
                    continue
                if utils.is_grade(cell) and not utils.is_solution(cell):
                    cell.source = strip_hidden_tests(cell.source, *self.delimiters)
                    cell.outputs = []
                    grade_id = str(cell.metadata["nbgrader"].get("grade_id", ""))
                    function = grade_id.removeprefix(GRADE_CELL_PREFIX)
                    if grade_id.startswith(GRADE_CELL_PREFIX) and function in grouped and function not in placed:
                        placed[function] = grade_id
                else:
                    cell.outputs = cap_outputs(cell.get("outputs", []), budget)
            resources["course"] = {
                "summary": summary_html(self.assignment, results, set(placed)),
                "blocks": {gid: function_block(Results.of(results), f) for f, gid in placed.items()},
            }
            return nb, resources

    return FeedbackExporter, ManualCommentsOnly, HideTestsAddResults


def _quiet_logger() -> logging.Logger:
    """nbgrader's converter logs every file it writes; only its errors matter here."""
    logger = logging.getLogger("autograder.feedback.nbgrader")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[generate_feedback] %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.ERROR)
    return logger


def _render_with_nbgrader(course: Course, assignment: str, students: dict[str, dict]) -> None:
    """One run of nbgrader's GenerateFeedback over the given students (every other student excluded)."""
    from nbgrader.converters import GenerateFeedback, NbGraderException
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import GetGrades

    exporter, manual_comments_only, hide_tests_add_results = _nbgrader_classes()
    config = course.nbgrader_config()  # nbgrader's own, whole
    others = sorted(p.name for p in course.autograded.iterdir() if p.is_dir() and p.name not in students)
    config.CourseDirectory.root = str(course.root)
    config.CourseDirectory.db_url = course.db_url
    config.CourseDirectory.assignment_id = assignment
    config.CourseDirectory.student_id = "*"
    config.CourseDirectory.student_id_exclude = ",".join(others)
    config.CourseDirectory.notebook_id = assignment
    config.GenerateFeedback.force = True
    # nbgrader copies the autograded folder's other files beside the page: results.json holds grader
    # details (limits, events) that are not the student's feedback.
    ignore = config.CourseDirectory.get("ignore", [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"])
    config.CourseDirectory.ignore = [*ignore, "results.json"]
    config.HTMLExporter.template_file = TEMPLATE_NAME
    # Whatever the course's config says: no script or widget output, text/html through clean_html, and SVG
    # drawn from a data: URL in an <img> (where no script of it runs), never inline.
    config.HTMLExporter.sanitize_html = True
    config.HTMLExporter.skip_svg_encoding = False
    delimiters = (
        config.ClearHiddenTests.get("begin_test_delimeter", HIDDEN_BEGIN),
        config.ClearHiddenTests.get("end_test_delimeter", HIDDEN_END),
    )
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config, log=_quiet_logger())
    steps = [manual_comments_only if step is GetGrades else step for step in converter.preprocessors]
    converter.preprocessors = [*steps, hide_tests_add_results(assignment, students, delimiters)]
    converter.exporter_class = exporter
    try:
        converter.start()
    except NbGraderException:
        pass  # the students it could not render get a page of ours; the converter logged why
    except Exception:  # outside nbgrader's own guard: the students left without a page get one of ours
        log.exception("nbgrader's feedback run failed for %s", ", ".join(sorted(students)))


# -- pages nbgrader cannot render --------------------------------------------------------------------------


def _bootstrap_css() -> str:
    import nbgrader

    path = Path(nbgrader.__file__).parent.joinpath(
        "server_extensions", "formgrader", "static", "node_modules", "bootstrap", "dist", "css", "bootstrap.min.css"
    )
    return path.read_text(encoding="utf-8") if path.exists() else ""


def standalone_page(assignment: str, student: str, results: dict, note: str | None) -> str:
    """A page in the style of nbgrader's, without the notebook: every block is in the summary."""
    typed = Results.of(results)
    score, max_score = typed.score, typed.max_score
    summary = summary_html(assignment, results, placed=set(), note=note)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8" />\n'
        f"<title>{_esc(assignment)}</title>\n<style>{_bootstrap_css()}</style>\n"
        "<style>body { font-size: 14px; padding-top: 1em; }</style>\n</head>\n<body>\n"
        '<a name="top"></a><div class="container"><div class="panel panel-default">'
        f'<div class="panel-heading"><h4>{_esc(assignment)} (Score: {round(score, 2)} / {round(max_score, 2)})</h4>'
        f"<p>Feedback for {_esc(student)}</p></div>"
        f'<div class="panel-body">{summary}</div></div></div>\n</body>\n</html>\n'
    )


def score_only_page(assignment: str, student: str, results: dict) -> str:
    """The last resort when even our own page fails: the score, and who to ask."""
    typed = Results.of(results)
    return (
        f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8" />\n<title>{_esc(assignment)}</title>\n</head>\n'
        f"<body>\n<h4>{_esc(assignment)} (Score: {typed.score:g} / {typed.max_score:g})</h4>\n"
        f"<p>Feedback for {_esc(student)}. The details could not be shown; your TA finds the reason in "
        "the grader's log.</p>\n</body>\n</html>\n"
    )


def _render_in_parallel(course: Course, assignment: str, students: dict[str, dict], workers: int) -> None:
    """nbgrader's rendering, the students dealt out to `workers` processes (a page takes about as long as
    grading a submission, nearly all of it in this process's CPU)."""
    students = dict(sorted(students.items()))
    workers = max(1, min(workers, len(students) // MIN_PAGES_PER_WORKER))
    if workers == 1:
        if students:
            _render_with_nbgrader(course, assignment, students)
        return
    # Imported once, here, rather than in every process (about 3 s each).
    import nbconvert.exporters  # noqa: F401
    import nbgrader.converters  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401

    names = list(students)
    shares = [{name: students[name] for name in names[i::workers]} for i in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.starmap(_render_with_nbgrader, [(course, assignment, share) for share in shares])


def write_feedback(
    course: Course, assignment: str, results_by_student: dict[str, dict], workers: int | None = None
) -> dict[str, Path]:
    """One HTML page per student at `feedback/<student>/<assignment>/<assignment>.html` in the course.

    Students whose autograded notebook is there are rendered by nbgrader's generate_feedback (it needs
    their grades in the gradebook), one process per core (`workers`); the others, and any nbgrader fails on,
    get a page written here.
    """
    autograded, feedback = course.autograded, course.feedback
    for student in results_by_student:
        if not student or Path(student).name != student or student in (".", ".."):
            raise ValueError(f"not a usable student id: {student!r}")
    pages = {student: feedback / student / assignment / f"{assignment}.html" for student in results_by_student}
    for page in pages.values():
        page.unlink(missing_ok=True)  # a page left from an earlier run must not pass for a new one
    notebooks = {student: autograded / student / assignment / f"{assignment}.ipynb" for student in results_by_student}
    renderable = {
        student: results
        for student, results in results_by_student.items()
        if notebooks[student].is_file() and not Results.of(results).load_error
    }
    _render_in_parallel(course, assignment, renderable, workers or os.cpu_count() or 1)
    for student, results in results_by_student.items():
        if pages[student].exists():
            continue
        note = None
        if not Results.of(results).load_error:
            note = "Your notebook itself cannot be shown on this page; the results of the hidden tests are all here."
            if student in renderable:
                log.warning("nbgrader could not render %s's notebook; wrote the results only", student)
        try:
            page = standalone_page(assignment, student, results, note)
        except Exception:  # one student's page must never cost the next student theirs
            log.exception("could not make %s's feedback page; wrote a page with the score only", student)
            page = score_only_page(assignment, student, results)
        pages[student].parent.mkdir(parents=True, exist_ok=True)
        pages[student].write_text(page, encoding="utf-8")
    return pages
