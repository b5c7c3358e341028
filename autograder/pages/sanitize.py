"""What came from a student's notebook, made safe to show: a feedback page shows the work, never runs or styles it.

nbgrader's feedback page is nbconvert's rendering of the student's own notebook, and nbconvert copies much of
it into the page as HTML: markdown and raw cells, saved outputs of type text/html, application/javascript and
image/svg+xml, an image's width from its metadata (into an unquoted attribute), cell tags (into a class), the
execution count (unescaped), nbgrader's grade ids (unescaped). A `<style>` that hides the results panel, a fake
score, a `<script>` or an `onerror` would run in the TA's browser. Two allow-lists stop them:

- `clean_notebook` rebuilds every cell and output from the fields a page needs, each of the type it must have:
  outputs keep text, PNG/JPEG/GIF (valid base64), HTML, markdown, LaTeX and SVG (drawn from a data: URL in
  an `<img>`, where no script of it runs); metadata keeps nbgrader's (with a plain grade id) and plain tags.
- `clean_html` is applied to every piece of HTML the page template makes from a cell (markdown rendered,
  raw cells, text/html and text/markdown outputs): bleach, the sanitiser nbconvert itself uses, with our own
  allow-list: text, headings, lists, tables, code, quotes, links (http, https, mailto, #), images from data:
  URLs, MathML, and pygments' classes on highlighted code. No script, style, frame, form, event handler, id
  or any other class, so nothing can hide, cover or imitate the kit's blocks. Markup outside the list is
  shown as text: the TA sees what was tried.

The kit's own blocks (the summary, the results of each function) are written by feedback.py and never pass here.
"""

from __future__ import annotations

import re
from typing import Any

import bleach
from nbformat import NotebookNode, from_dict

TEXT_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "kbd", "samp",
             "var", "em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark", "abbr",
             "span", "div", "ul", "ol", "li", "dl", "dt", "dd", "a", "img", "details", "summary", "caption",
             "table", "thead", "tbody", "tfoot", "tr", "th", "td", "figure", "figcaption"}  # fmt: skip
MATH_TAGS = {"math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup", "mfrac",
             "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded",
             "mphantom", "menclose", "mfenced", "merror", "mmultiscripts", "mprescripts", "none"}  # fmt: skip
MATH_ATTRIBUTES = ["xmlns", "display", "mathvariant", "stretchy", "fence", "separator", "form", "accent",
                   "accentunder", "linethickness", "columnalign", "rowalign", "columnspacing", "rowspacing",
                   "notation", "scriptlevel", "displaystyle", "lspace", "rspace", "voffset", "width", "height",
                   "depth", "minsize", "maxsize", "largeop", "movablelimits", "symmetric", "open", "close",
                   "separators"]  # fmt: skip
# MathML lengths move what is drawn (mpadded's voffset, a negative lspace): small ones only, so that no formula
# is drawn over the kit's blocks. latex2mathml writes at most a few em ("+0.833em", "-.2em", "1em").
# A scriptlevel of -50 draws a glyph ten million times its size.
MATH_LENGTHS = {"width", "height", "depth", "lspace", "rspace", "voffset", "minsize", "maxsize", "linethickness"}
SMALL_LENGTH = re.compile(r"[+-]?(\d(\.\d*)?|\.\d+)(em|ex)?")
SMALL_LEVEL = re.compile(r"[+-]?[0-2]")
PROTOCOLS = {"http", "https", "mailto", "data"}  # data: only for images, see _allowed
IMAGE_URL = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*", re.I)
LINK_URL = re.compile(r"(https?:|mailto:|#)\S*", re.I)
CLASSES = {  # tag -> the classes it may carry: what mistune and pygments give, none of the page's own
    "span": re.compile(r"[a-z]{1,2}[a-z0-9]?"),  # pygments' token classes: k, nf, s2, c1, err ...
    "div": re.compile(r"highlight|hl-[a-z0-9]+"),
}
NUMBER = re.compile(r"\d{1,4}")
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
PLAIN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a cell id, a grade id, a tag: what goes into an attribute
OUTPUT_TEXT = ("text/plain", "text/html", "text/markdown", "text/latex", "image/svg+xml")
OUTPUT_IMAGES = ("image/png", "image/jpeg", "image/gif")


def _allowed(tag: str, name: str, value: str) -> bool:
    """bleach's attribute filter: which attribute of which tag, with which values."""
    if tag in MATH_TAGS:
        if name in MATH_LENGTHS:
            return SMALL_LENGTH.fullmatch(value) is not None
        return name in MATH_ATTRIBUTES and (name != "scriptlevel" or SMALL_LEVEL.fullmatch(value) is not None)
    if name == "class":
        pattern = CLASSES.get(tag)
        return pattern is not None and all(pattern.fullmatch(token) for token in value.split())
    if tag == "a":
        return name == "title" or (name == "href" and LINK_URL.fullmatch(value.strip()) is not None)
    if tag == "img":
        if name == "src":
            return IMAGE_URL.fullmatch(value.strip()) is not None
        return name in ("alt", "title") or (name in ("width", "height") and NUMBER.fullmatch(value) is not None)
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan") and NUMBER.fullmatch(value) is not None
    return tag == "abbr" and name == "title"


CLEANER = bleach.Cleaner(
    tags=TEXT_TAGS | MATH_TAGS, attributes=_allowed, protocols=PROTOCOLS, strip=False, strip_comments=True
)


def clean_html(html: Any) -> str:
    """HTML from a student's notebook with nothing that runs, styles or frames: see the module's docstring."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else str(html)
    return CLEANER.clean(text)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return value if isinstance(value, str) else ""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _image_metadata(metadata: Any) -> dict:
    """An image's width and height when they are plain numbers (nbconvert writes them unquoted)."""
    if not isinstance(metadata, dict):
        return {}
    kept = {}
    for mime in OUTPUT_IMAGES:
        size = metadata.get(mime)
        if isinstance(size, dict):
            kept[mime] = {
                key: size[key]
                for key in ("width", "height")
                if isinstance(size.get(key), int) and not isinstance(size.get(key), bool) and 0 < size[key] < 10_000
            }
    return {mime: size for mime, size in kept.items() if size}


def _rich_data(data: Any) -> dict:
    """The representations a page may show; images only as valid base64."""
    if not isinstance(data, dict):
        return {}
    kept = {mime: _text(data[mime]) for mime in OUTPUT_TEXT if mime in data}
    for mime in OUTPUT_IMAGES:
        value = _text(data.get(mime))
        if value and BASE64.fullmatch(value):
            kept[mime] = value
    return kept


def _attachment(data: Any) -> dict:
    """A pasted image of a markdown cell (`![](attachment:name)`), base64 in every type."""
    if not isinstance(data, dict):
        return {}
    kept = {mime: _text(data.get(mime)) for mime in (*OUTPUT_IMAGES, "image/svg+xml")}
    return {mime: value for mime, value in kept.items() if value and BASE64.fullmatch(value)}


def clean_output(output: Any) -> dict | None:
    """One saved output rebuilt from its known fields (None when it has nothing a page may show)."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return {"output_type": "stream", "name": name, "text": _text(output.get("text"))}
    if kind == "error":
        traceback = output.get("traceback")
        lines = [line for line in traceback if isinstance(line, str)] if isinstance(traceback, list) else []
        return {"output_type": "error", "ename": _text(output.get("ename")), "evalue": _text(output.get("evalue")),
                "traceback": lines}  # fmt: skip
    if kind in ("display_data", "execute_result"):
        data = _rich_data(output.get("data"))
        if not data:
            return None
        rebuilt = {"output_type": kind, "data": data, "metadata": _image_metadata(output.get("metadata"))}
        if kind == "execute_result":
            rebuilt["execution_count"] = _count(output.get("execution_count"))
        return rebuilt
    return None


def _nbgrader(metadata: Any) -> dict | None:
    """nbgrader's cell metadata, when its grade id is plain (nbgrader's template writes it unescaped)."""
    if not isinstance(metadata, dict) or not PLAIN_ID.fullmatch(str(metadata.get("grade_id", ""))):
        return None
    return metadata


def clean_cell(cell: Any, index: int) -> dict | None:
    """One cell rebuilt from the fields a page needs (None for a cell that is not code, markdown or raw)."""
    if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
        return None
    metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    kept: dict[str, Any] = {}
    nbgrader = _nbgrader(metadata.get("nbgrader"))
    if nbgrader is not None:
        kept["nbgrader"] = nbgrader
    tags = metadata.get("tags")
    if isinstance(tags, list):
        kept["tags"] = [tag for tag in tags if isinstance(tag, str) and PLAIN_ID.fullmatch(tag)]
    cell_id = cell.get("id")
    rebuilt = {
        "cell_type": cell["cell_type"],
        "id": cell_id if isinstance(cell_id, str) and PLAIN_ID.fullmatch(cell_id) else f"cell-{index}",
        "metadata": kept,
        "source": _text(cell.get("source")),
    }
    if cell["cell_type"] == "code":
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        rebuilt["outputs"] = [shown for shown in map(clean_output, outputs) if shown is not None]
        rebuilt["execution_count"] = _count(cell.get("execution_count"))
    else:
        attachments = cell.get("attachments") if isinstance(cell.get("attachments"), dict) else {}
        images = {name: _attachment(data) for name, data in attachments.items() if isinstance(name, str)}
        rebuilt["attachments"] = {name: data for name, data in images.items() if data}
    return rebuilt


def clean_notebook(nb: NotebookNode) -> NotebookNode:
    """The notebook rebuilt cell by cell; its own metadata (title, widget state, ...) replaced by the language
    the grader ran it in."""
    cells = [clean_cell(cell, i) for i, cell in enumerate(nb.get("cells") or [])]
    return from_dict(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"language_info": {"name": "python", "pygments_lexer": "ipython3"}},
            "cells": [cell for cell in cells if cell is not None],
        }
    )
