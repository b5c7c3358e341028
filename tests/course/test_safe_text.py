"""Strings from student code are made safe to store: no lone surrogate, NUL or control character survives."""

from __future__ import annotations

import json
import sqlite3

import pytest

from autograder.course.safe_text import REPLACEMENT, safe_data, safe_text


@pytest.mark.parametrize("bad", ["\ud800", "\udfff", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f"])
def test_each_unsafe_character_becomes_the_replacement_character(bad):
    assert safe_text(f"a{bad}b") == f"a{REPLACEMENT}b"


def test_text_a_reader_needs_stays():
    text = "line 1\n\tline 2\r\nnaïve — 数据 🙂 \u00a0"
    assert safe_text(text) == text


def test_safe_text_can_be_stored_where_the_raw_text_cannot():
    raw = "ValueError: \ud800 and \x00"
    with pytest.raises(UnicodeEncodeError):
        raw.encode("utf-8")
    safe = safe_text(raw)
    safe.encode("utf-8")
    db = sqlite3.connect(":memory:")
    db.execute("create table t (s text)")
    db.execute("insert into t values (?)", (safe,))
    assert db.execute("select s from t").fetchone() == (safe,)


def test_data_is_made_safe_keys_and_all():
    data = {"\ud800": ["ok", ("\x00", 1.5)], "n": None, "x": {"y": "\udc80"}}
    safe = safe_data(data)
    assert safe == {REPLACEMENT: ["ok", (REPLACEMENT, 1.5)], "n": None, "x": {"y": REPLACEMENT}}
    json.dumps(safe, ensure_ascii=False).encode("utf-8")


def test_safe_data_is_left_as_it_is():
    data = {"tests": [{"output": "fine\n"}], "score": 1.0}
    assert safe_data(data) is data
