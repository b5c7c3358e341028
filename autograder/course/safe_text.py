"""Text that came from a student's code, made safe to store and show: no lone surrogate, NUL or control character.

A string from the sandbox (an exception's message, printed output, a value's repr) may hold anything Python
allows: a lone surrogate ("\\ud800") cannot be encoded as UTF-8, so SQLite, results.json read by another
tool, CSV and HTML writers all fail on it, and NUL or control characters cut or garble a gradebook comment
or a terminal. Each such character becomes U+FFFD (the replacement character), so a reader sees that
something was there; tabs and line breaks stay.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
# C0 controls but tab, newline and carriage return; DEL and the C1 controls; every surrogate code point.
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def safe_text(text: str) -> str:
    return UNSAFE.sub(REPLACEMENT, text)


def is_safe(value) -> bool:
    if isinstance(value, str):
        return UNSAFE.search(value) is None
    if isinstance(value, dict):
        return all(is_safe(key) and is_safe(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return all(map(is_safe, value))
    return True


def safe_data(value):
    """JSON-like data (dicts, lists, strings, numbers) with every string, keys included, made safe: the same
    object when it is safe already (the usual case), else a copy."""
    if is_safe(value):
        return value
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_data(key): safe_data(item) for key, item in value.items()}
    return type(value)(safe_data(item) for item in value)
