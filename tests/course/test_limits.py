"""Unit tests for autograder.course.limits.load_limits: defaults, limits.toml overrides and unknown keys."""

from __future__ import annotations

import dataclasses
import re

import pytest

from autograder.course.limits import Limits, load_limits


def test_no_limits_toml_gives_the_defaults(tmp_path):
    limits = load_limits(tmp_path)
    assert limits == Limits()
    assert (limits.memory_mb, limits.call_seconds, limits.restarts, limits.require_isolation) == (3072, 10.0, 3, False)


def test_a_missing_assignment_folder_gives_the_defaults(tmp_path):
    assert load_limits(tmp_path / "nowhere") == Limits()


def test_overrides_are_applied_and_the_rest_stay_default(tmp_path):
    (tmp_path / "limits.toml").write_text("call_seconds = 20\nrestarts = 1\nrequire_isolation = true\n")
    limits = load_limits(tmp_path)
    assert limits.call_seconds == 20
    assert limits.restarts == 1
    assert limits.require_isolation is True
    changed = {"call_seconds", "restarts", "require_isolation"}
    for field in dataclasses.fields(Limits):
        if field.name not in changed:
            assert getattr(limits, field.name) == getattr(Limits(), field.name), field.name


def test_an_empty_limits_toml_gives_the_defaults(tmp_path):
    (tmp_path / "limits.toml").write_text("# nothing overridden\n")
    assert load_limits(tmp_path) == Limits()


def test_overrides_reach_the_worker(tmp_path):
    (tmp_path / "limits.toml").write_text("memory_mb = 1024\n")
    assert load_limits(tmp_path).for_worker()["memory_mb"] == 1024


def test_an_unknown_key_is_an_error_naming_it_and_the_known_keys(tmp_path):
    (tmp_path / "limits.toml").write_text("call_second = 20\nrestarts = 1\n")
    with pytest.raises(ValueError) as excinfo:
        load_limits(tmp_path)
    message = str(excinfo.value)
    assert str(tmp_path / "limits.toml") in message
    assert "unknown limit(s) ['call_second']" in message
    known = sorted(field.name for field in dataclasses.fields(Limits))
    assert f"known: {known}" in message
    assert "'call_seconds'" in message


def test_several_unknown_keys_are_all_named(tmp_path):
    (tmp_path / "limits.toml").write_text("zeta = 1\nalpha = 2\n")
    with pytest.raises(ValueError, match=re.escape("unknown limit(s) ['alpha', 'zeta']")):
        load_limits(tmp_path)
