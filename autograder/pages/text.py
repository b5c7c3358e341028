"""Values from results.json made safe for the HTML pages (feedback and class report): escaped text and
finite numbers. results.json holds what the student's code produced, so nothing in it is trusted."""

from __future__ import annotations

import html
import math
from typing import Any


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def finite(value: Any) -> float:
    """A number for display: 0.0 for anything that is not a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0
