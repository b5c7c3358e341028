"""`Results` writes what it reads: a stable test id beside the display name, per-function sums, the Gradescope
form, extra fields added without touching the original, and results.json files written before ids existed."""

from __future__ import annotations

import json

from autograder.grading.results import Results

DATA = {
    "score": 3.0, "max_score": 5.0, "execution_time": 1.5, "output": "note",
    "tests": [
        {"id": "a/test_f.py::test_one", "name": "f: one", "score": 1.0, "max_score": 1.0, "status": "passed",
         "output": "", "tags": ["f"], "visibility": "visible"},
        {"id": "a/test_f.py::test_two", "name": "f: two", "score": 0.0, "max_score": 2.0, "status": "failed",
         "output": "wrong", "tags": ["f"], "visibility": "visible"},
        {"id": "a/test_g.py::test_g", "name": "g: g", "score": 2.0, "max_score": 2.0, "status": "passed",
         "output": "", "tags": ["g"], "visibility": "visible"},
    ],
    "extra_data": {"notebook_sha256": "ab", "isolation": "bwrap-root", "hit_limit": True, "events": ["e"],
                   "seeds": {"a/test_f.py::test_one": "12", "bad": "x"}},
}  # fmt: skip


def test_tests_have_stable_ids_and_names():
    tests = Results(DATA).tests
    assert [t.id for t in tests] == ["a/test_f.py::test_one", "a/test_f.py::test_two", "a/test_g.py::test_g"]
    assert [t.name for t in tests] == ["f: one", "f: two", "g: g"]


def test_an_old_results_json_without_ids_reads_its_names_as_ids():
    old = json.loads(json.dumps(DATA))
    for test in old["tests"]:
        del test["id"]
    assert [t.id for t in Results(old).tests] == ["f: one", "f: two", "g: g"]


def test_per_function_sums_are_owned_here():
    results = Results(DATA)
    assert results.function_totals("f") == (1.0, 3.0) and results.function_totals("nothing") == (0, 0)
    assert results.function_scores() == {"f": 1.0, "g": 2.0}
    assert results.function_max_scores() == {"f": 3.0, "g": 2.0}


def test_typed_extra_fields():
    results = Results(DATA)
    assert (results.notebook_sha256, results.isolation, results.hit_limit, results.events) == (
        "ab", "bwrap-root", True, ["e"]
    )  # fmt: skip
    assert results.seeds() == {"a/test_f.py::test_one": 12}
    empty = Results({})
    assert (empty.notebook_sha256, empty.isolation, empty.hit_limit, empty.events, empty.seeds()) == (
        "", None, False, [], {}
    )  # fmt: skip


def test_with_extra_leaves_the_original_alone():
    results = Results(DATA)
    late = results.with_extra(late={"penalty": 1.0})
    assert late.penalty == 1.0 and late.final_score == 2.0 and late.notebook_sha256 == "ab"
    assert results.penalty == 0.0 and "late" not in DATA["extra_data"]


def test_the_gradescope_form_has_no_extra_data():
    form = Results(DATA).to_gradescope("after_due_date")
    assert set(form) == {"score", "execution_time", "output", "stdout_visibility", "tests"}
    assert (form["output"], form["execution_time"]) == ("note", 1.5)
    assert form["score"] == 3.0 and [t["number"] for t in form["tests"]] == ["1", "2", "3"]
    assert {t["visibility"] for t in form["tests"]} == {"after_due_date"}
    expected = {"name": "f: two", "score": 0.0, "max_score": 2.0, "status": "failed", "output": "wrong",
                "tags": ["f"], "number": "2", "visibility": "after_due_date"}  # fmt: skip
    assert form["tests"][1] == expected


def test_written_and_read_back_whole(tmp_path):
    path = tmp_path / "alice" / "results.json"
    Results(DATA).write(path)
    assert Results.read(path).data == DATA
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temporary file left behind


def test_strings_from_the_sandbox_are_safe_in_every_results(tmp_path):
    """A student's ValueError("\\ud800") reached results.json and then failed the gradebook's write."""
    extra = {**DATA["extra_data"], "events": ["\x1b[2J"], "evidence": {"\udcff": ["\ud800"]}}
    tests = [{**DATA["tests"][1], "output": "ValueError: \ud800"}]
    hostile = {**DATA, "output": "note \x00", "tests": tests, "extra_data": extra}
    for results in (Results(hostile), Results.of(hostile), Results(DATA).with_extra(note="\ud800")):
        text = results.to_json()
        json.loads(text)  # and no character in it that UTF-8 cannot encode:
        assert json.dumps(results.data, ensure_ascii=False).encode("utf-8")
    typed = Results(hostile)
    assert typed.tests[0].output == "ValueError: \ufffd" and typed.output == "note \ufffd"
    path = tmp_path / "results.json"
    path.write_text(json.dumps(hostile))  # escaped by json.dumps, so a file can hold it
    assert Results.read(path).events == ["\ufffd[2J"]


def test_zeroed_keeps_the_tests_and_the_notebook_but_nothing_the_student_made():
    zeroed = Results(DATA).zeroed("its grades could not be recorded")
    assert zeroed.score == 0 and zeroed.max_score == 5 and zeroed.load_error == "its grades could not be recorded"
    assert [t.id for t in zeroed.tests] == [t.id for t in Results(DATA).tests]
    assert all(not t.passed and t.score == 0 and t.output == "its grades could not be recorded" for t in zeroed.tests)
    assert zeroed.notebook_sha256 == "ab" and zeroed.events == [] and zeroed.evidence() == {}
