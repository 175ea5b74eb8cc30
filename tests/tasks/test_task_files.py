"""A user's own task file: JSONL or CSV rows, a template over their fields, a parser and a scorer by
name (on the command line or in a sidecar YAML), one-line errors naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app
from callscale.tasks import TaskDataError, load_task
from callscale.tasks.files import contains_match, parser_named


def test_free_form_answers_are_parsed_and_scored_as_numbers(tmp_path: Path) -> None:
    data = tmp_path / "sums.jsonl"
    data.write_text('{"id": "s1", "a": 2, "b": 3, "answer": 5}\n{"id": "s2", "a": 10, "b": 7, "answer": "17.0"}\n')
    task = load_task(data, template="Compute {a} + {b}.")
    first, second = task.items
    assert task.prompt(first) == "Compute 2 + 3." and first.metadata == {"a": 2, "b": 3}
    assert task.score(task.parse("2 + 3 = 5", first), first) == 1.0
    assert task.score(task.parse("The sum is 17", second), second) == 1.0  # numeric: 17 = 17.0
    assert task.score(task.parse("2 + 3 = 6", first), first) == 0.0


def test_jsonl_and_csv_load_the_same_task(tmp_path: Path) -> None:
    (tmp_path / "t.jsonl").write_text('{"id": "x", "question": "Capital of France?", "answer": "Paris"}\n')
    (tmp_path / "t.csv").write_text("id,question,answer\nx,Capital of France?,Paris\n")
    a, b = load_task(tmp_path / "t.jsonl", scorer="contains"), load_task(tmp_path / "t.csv", scorer="contains")
    assert a.items == b.items and a.scorer is b.scorer is contains_match
    assert a.score(a.parse("It is Paris.", a.items[0]), a.items[0]) == 1.0


def test_a_sidecar_sets_template_parser_and_scorer(tmp_path: Path) -> None:
    (tmp_path / "qa.jsonl").write_text('{"q": "Is water wet?", "gold": "yes"}\n')
    (tmp_path / "qa.yaml").write_text("name: wet\ntemplate: 'Answer yes or no: {q}'\nparser: yes-no\nmax_tokens: 4\n")
    task = load_task(tmp_path / "qa.jsonl")
    item = task.items[0]
    assert task.name == "wet" and task.prompt(item) == "Answer yes or no: Is water wet?" and item.id == "qa/1"
    assert task.score(task.parse("Yes, it is.", item), item) == 1.0 and task.sampling == {"max_tokens": 4}
    overridden = load_task(tmp_path / "qa.jsonl", parser="regex:final: (\\w+)")
    assert overridden.parse("yes... final: no", item) == "no"


def test_a_template_in_a_file(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"x": "ab", "answer": "ba"}\n')
    (tmp_path / "prompt.txt").write_text("Reverse {x}.\n")
    task = load_task(tmp_path / "d.jsonl", template=str(tmp_path / "prompt.txt"))
    assert task.prompt(task.items[0]) == "Reverse ab."


@pytest.mark.parametrize(("name", "text", "options", "words"), [
    ("ragged.csv", "id,question,answer\nx,q,1,extra\n", {}, "ragged.csv:2: 3 columns expected"),
    ("nogold.csv", "id,question\nx,q\n", {}, "nogold.csv:1: no 'answer' (or 'gold') column"),
    ("missing.jsonl", '{"id": "x", "question": "q"}\n', {}, "missing.jsonl:1: field 'answer': missing"),
    ("empty.jsonl", '{"id": "x", "question": "q", "answer": ""}\n', {}, "empty.jsonl:1: field 'answer'"),
    ("broken.jsonl", '{"id": "x", "question": \n', {}, "broken.jsonl:1: not valid JSON"),
    ("dup.jsonl", '{"id": "x", "question": "q", "answer": "1"}\n{"id": "x", "question": "r", "answer": "2"}\n', {},
     "dup.jsonl:2: field 'id': 'x' already used on line 1"),
    ("tmpl.jsonl", '{"a": 1, "answer": "1"}\n', {"template": "{a} and {b}"}, "tmpl.jsonl:1: field 'b'"),
    ("p.jsonl", '{"question": "q", "answer": "1"}\n', {"parser": "digits"}, "unknown parser 'digits'"),
    ("s.jsonl", '{"question": "q", "answer": "1"}\n', {"scorer": "fuzzy"}, "unknown scorer 'fuzzy'"),
])
def test_bad_task_files_name_file_line_and_field(tmp_path: Path, name: str, text: str, options: dict[str, str],
                                                 words: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(TaskDataError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_task(tmp_path / name, **options)  # type: ignore[arg-type]
    args = ["run", "--task", str(tmp_path / name), "--backend", "simulated", "--store", str(tmp_path / "s.sqlite")]
    flags = [part for k, v in options.items() for part in (f"--{k}", v)]
    result = CliRunner().invoke(app, [*args, *flags])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and words in result.stderr
    assert not (tmp_path / "s.sqlite").exists()


def test_the_cli_runs_a_users_free_form_task(tmp_path: Path) -> None:
    data = tmp_path / "sums.jsonl"
    data.write_text("".join(json.dumps({"a": a, "b": b, "answer": a + b}) + "\n" for a, b in [(2, 3), (4, 4), (1, 9)]))
    result = CliRunner().invoke(app, ["run", "--task", str(data), "--template", "Compute {a} + {b}.", "--parser", "number",
                                      "--scorer", "numeric", "--backend", "simulated", "--k", "3", "--show-answers",
                                      "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0, result.stderr
    assert "gold 5" in result.stdout and "(3 items" in result.stdout


def test_regex_parser_takes_the_last_match() -> None:
    assert parser_named("regex:\\d+")("1 then 22", None) == "22"
    with pytest.raises(ValueError, match="not a regular expression"):
        parser_named("regex:(")
