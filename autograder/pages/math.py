"""Formulas on the feedback pages without MathJax: TeX in markdown turned into MathML when the page is made.

nbconvert's pages load MathJax from a CDN, so without a network every formula shows as raw TeX. MathML is
drawn by the browser itself (Chromium, Firefox, Safari), needs no script and makes no request. Each markdown
cell is rendered here: `$...$` and `$$...$$` outside code become MathML (a formula latex2mathml cannot read
stays as code), the rest goes through nbconvert's own markdown renderer (pasted images, `attachment:<name>`,
from the cell's attachments). The result is the student's HTML: sanitize.py cleans it before it is shown.
"""

from __future__ import annotations

import html
import re

CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)  # fenced and inline code: never math
MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$\w])\$(?=\S)(.+?)(?<=\S)\$(?![\w$])", re.S)
TOKEN = "COURSEMATH{}X"
NOT_PLUGINS = {"task_lists"}  # of nbconvert's markdown plugins: their ticks are <input> fields ("[x]" reads as well)


def markdown_with_mathml(text: str, attachments: dict | None = None) -> str:
    """The markdown cell as HTML, its formulas as MathML. Headings get no id or anchor: ids on the page are
    the kit's own."""
    from latex2mathml.converter import convert
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath, import_plugin

    formulas: list[str] = []

    def stash(match: re.Match) -> str:
        display = match[1] is not None
        tex = (match[1] if display else match[2]).strip()
        try:
            formulas.append(convert(tex, display="block" if display else "inline"))
        except Exception:  # latex2mathml raises plain exceptions for TeX it does not know
            formulas.append(f"<code>{html.escape(tex)}</code>")
        return TOKEN.format(len(formulas) - 1)

    parts = CODE.split(text)
    text = "".join(part if i % 2 else MATH.sub(stash, part) for i, part in enumerate(parts))
    renderer = IPythonRenderer(escape=False, exclude_anchor_links=True, attachments=attachments or {})
    plugins = [import_plugin(name) for name in MarkdownWithMath.DEFAULT_PLUGINS if name not in NOT_PLUGINS]
    rendered = MarkdownWithMath(renderer=renderer, plugins=plugins).render(text)
    return re.sub(TOKEN.format(r"(\d+)"), lambda match: formulas[int(match[1])], rendered)
