"""The `screen` command's contract (PRODUCT.md §7) beyond the vignettes: sets, output shape, writes nothing."""

import io
import json

import pytest
from django.core.management import call_command

from screening.models import Screening

from .factories import answers

pytestmark = pytest.mark.django_db


def screen(tmp_path, raw, *args):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(raw))
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("screen", str(path), "--today", "2026-11-23", *args, stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, out.getvalue(), err.getvalue()
    return 0, json.loads(out.getvalue()), err.getvalue()


def test_without_options_only_the_primary_set_is_printed(shipped_criteria, tmp_path):
    code, result, _ = screen(tmp_path, answers())
    assert code == 0
    assert [(r["set"], r["primary"], r["verdict"]) for r in result["results"]] == [("article", True, "likely")]
    assert result["today"] == "2026-11-23"
    assert result["facts"]["edss"] == [3.5, 3.5]
    assert {"kind", "title"} <= set(result["notes"][0])


def test_all_sets_scores_every_active_set(shipped_criteria, tmp_path):
    _, result, _ = screen(tmp_path, answers(), "--all-sets")
    assert len(result["results"]) == 8
    assert result["results"][0]["set"] == "article"
    assert all(r["verdict"] in ("likely", "possible", "unlikely") for r in result["results"])


def test_one_named_set(shipped_criteria, tmp_path):
    _, result, _ = screen(tmp_path, answers(age=60), "--set", "ebmt-2020")
    assert [r["set"] for r in result["results"]] == ["ebmt-2020"]


def test_an_unknown_set_is_a_bad_answer_not_a_crash(shipped_criteria, tmp_path):
    code, _, err = screen(tmp_path, answers(), "--set", "nope")
    assert code == 2
    assert err.startswith("set: ")


def test_a_bad_today_is_reported(shipped_criteria, tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(answers()))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit:
        call_command("screen", str(path), "--today", "23/11/2026", stderr=err)
    assert exit.value.code == 2
    assert err.getvalue().startswith("today: ")


def test_validation_is_relative_to_today(shipped_criteria, tmp_path):
    code, _, err = screen(tmp_path, answers(diagnosis_year=2026, diagnosis_month=12))
    assert code == 2 and "diagnosis_year: The diagnosis date cannot be in the future." in err
    code, _, _ = screen(tmp_path, answers(diagnosis_year=2026, diagnosis_month=11))
    assert code == 0


def test_the_command_writes_nothing(shipped_criteria, tmp_path, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        screen(tmp_path, answers(), "--all-sets")
    assert Screening.objects.count() == 0


@pytest.mark.parametrize("data, said", [
    (b'{"age": "\xff"}', "answers: standard input is not UTF-8 text"),
    (json.dumps(answers()).encode(), None),
    ("\ufeff".encode() + json.dumps(answers()).encode(), None),  # a byte order mark, as some editors write
])
@pytest.mark.parametrize("stdin", [
    lambda data: io.TextIOWrapper(io.BytesIO(data), encoding="ascii", errors="surrogateescape"),
    lambda data: io.StringIO(data.decode("utf-8", "surrogateescape")),  # text only, as code calling it may give
], ids=["a terminal or pipe", "text"])
def test_answers_on_standard_input_are_read_as_utf8(shipped_criteria, monkeypatch, data, said, stdin):
    monkeypatch.setattr("sys.stdin", stdin(data))
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("screen", "-", "--today", "2026-11-23", stdout=out, stderr=err)
    except SystemExit as exit:
        assert exit.code == 2 and said and err.getvalue().strip() == said
    else:
        assert said is None and json.loads(out.getvalue())["results"][0]["verdict"] == "likely"


@pytest.mark.parametrize("text, said", [
    ('{"age": 1e400}', "1e400 is a number too large to keep at line 1, column 9"),
    ('{"age": 34,\n "edss": -1e400}', "-1e400 is a number too large to keep at line 2, column 10"),
    ('{"edss": NaN}', "NaN is not a number JSON allows at line 1, column 10"),
    ('{"edss": Infinity}', "Infinity is not a number JSON allows at line 1, column 10"),
    ('{"region": "NaN", "dmts": ["fumarate", -Infinity]}',
     "-Infinity is not a number JSON allows at line 1, column 40"),
], ids=["overflowing", "overflowing negative", "NaN", "Infinity", "-Infinity after the text NaN"])
def test_a_number_json_cannot_hold_is_refused_where_it_stands(shipped_criteria, tmp_path, text, said):
    """Python reads 1e400 as infinity and takes NaN and Infinity, which are not JSON: each is malformed input, said
    with its place in the file, not an answer checked as infinity."""
    path = tmp_path / "answers.json"
    path.write_text(text)
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit:
        call_command("screen", str(path), "--today", "2026-11-23", stderr=err)
    assert exit.value.code == 2
    assert err.getvalue().splitlines() == [f"answers: not valid JSON ({said})"]


def test_numbers_written_with_an_exponent_are_read(shipped_criteria, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers(edss=0)).replace('"edss": 0', '"edss": 35e-1'))
    out = io.StringIO()
    call_command("screen", str(path), "--today", "2026-11-23", stdout=out)
    assert json.loads(out.getvalue())["facts"]["edss"] == [3.5, 3.5]
