"""The shipped slices: they load, validate, match the manifest, and their golds parse with their task."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from callscale.tasks import (
    UnknownTaskError,
    get_task,
    load_shipped,
    register_task,
    shipped_manifest,
    shipped_names,
    task_names,
    unregister_task,
)
from callscale.tasks.loaders import dumps_rows, item_to_row
from callscale.tasks.parsers import LETTERS

DATA = resources.files("callscale.tasks") / "data"
MANIFEST = shipped_manifest()

EXPECTED_COUNTS = {
    "arc_easy": 300,
    "arc_challenge": 300,
    "csqa": 300,
    "mmlu_high_school_physics": 151,
    "mmlu_college_computer_science": 100,
    "mmlu_high_school_world_history": 237,
    "mmlu_professional_medicine": 272,
    "gsm8k": 300,
    "basic_skills_arithmetic": 300,
    "boolq": 300,
    "fanoutqa_dev": 310,
}

# registered task → shipped slice it reads
TASK_SLICES = {
    "arc_easy": "arc_easy",
    "arc_challenge": "arc_challenge",
    "csqa": "csqa",
    "mmlu_high_school_physics": "mmlu_high_school_physics",
    "mmlu_college_computer_science": "mmlu_college_computer_science",
    "mmlu_high_school_world_history": "mmlu_high_school_world_history",
    "mmlu_professional_medicine": "mmlu_professional_medicine",
    "gsm8k": "gsm8k",
    "arithmetic_mc": "basic_skills_arithmetic",
    "arithmetic": "basic_skills_arithmetic",
    "boolq": "boolq",
    "fanoutqa": "fanoutqa_dev",
}


def test_manifest_lists_the_expected_slices() -> None:
    assert shipped_names() == sorted(EXPECTED_COUNTS)
    assert {name: entry["count"] for name, entry in MANIFEST.items()} == EXPECTED_COUNTS


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_slice_loads_validates_and_matches_manifest(name: str) -> None:
    entry = MANIFEST[name]
    raw = (DATA / entry["file"]).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == entry["sha256"], "file changed without re-running cut_slices.py"
    items = load_shipped(name)
    assert len(items) == entry["count"] == EXPECTED_COUNTS[name]
    assert entry["count"] <= entry["available"]
    ids = [it.id for it in items]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith(name.removesuffix("_dev") + "/") for i in ids)
    # canonical serialisation: re-serialising the loaded items gives the very same bytes
    assert dumps_rows(item_to_row(it) for it in items) == raw
    assert raw.endswith(b"\n") and b"\r" not in raw


def test_total_size_is_small_and_licenses_are_noted() -> None:
    total = sum(len((DATA / e["file"]).read_bytes()) for e in MANIFEST.values())
    assert total < 3_000_000
    licenses = (DATA / "LICENSES.md").read_text(encoding="utf-8")
    for entry in MANIFEST.values():
        assert f"`{entry['file']}`" in licenses
        assert entry["package"] in licenses
        assert entry["license"] in licenses
        assert entry["path_in_package"] in licenses


@pytest.mark.parametrize("task_name", sorted(TASK_SLICES))
def test_gold_answers_parse_and_score_with_the_tasks_own_parser(task_name: str) -> None:
    task = get_task(task_name)
    assert len(task) == EXPECTED_COUNTS[TASK_SLICES[task_name]]
    assert task.description and task.source
    for item in task.items:
        assert task.parse(item.answer, item) == item.answer or task_name == "fanoutqa"
        assert task.score(task.parse(item.answer, item), item) == 1.0, item.id
        task.prompt(item)  # renders


@pytest.mark.parametrize("task_name", [t for t in sorted(TASK_SLICES) if get_task(t).is_multiple_choice])
def test_multiple_choice_golds_survive_permutation_and_echo(task_name: str) -> None:
    task = get_task(task_name)
    for item in task.items:
        assert item.choices is not None and 2 <= len(item.choices) <= 10
        assert item.answer in LETTERS[: len(item.choices)]
        for seed in (0, 1):
            shown = task.display_letter(item.answer, item, seed)
            assert task.parse(f"Answer: {shown}", item, permutation_seed=seed) == item.answer
        # echoing the option text is read as that option whenever the text is unambiguous
        if item.choices.count(item.gold_text) == 1 and item.gold_text.strip():
            assert task.parse(item.gold_text, item) in (item.answer, None)


def test_gsm8k_reference_solutions_parse_to_the_gold() -> None:
    task = get_task("gsm8k")
    for item in task.items:
        assert task.parse(item.metadata["solution"], item) == item.answer, item.id


def test_arithmetic_free_form_matches_the_multiple_choice_gold() -> None:
    mc, free = get_task("arithmetic_mc"), get_task("arithmetic")
    for a, b in zip(mc.items, free.items, strict=True):
        assert a.id == b.id and b.choices is None
        assert b.answer == a.gold_text.strip() or float(b.answer) == float(a.gold_text)
        assert free.grade(f"{a.gold_text}", b) == 1.0
        assert "Reply with the number only" in free.prompt(b)


def test_fanoutqa_keeps_decompositions() -> None:
    task = get_task("fanoutqa")
    with_subquestions = 0
    for item in task.items:
        decomposition = item.metadata["decomposition"]
        assert isinstance(decomposition, list)
        for step in decomposition:
            assert {"id", "question", "answer", "depends_on"} <= set(step)
        with_subquestions += bool(decomposition)
        assert "answer" in item.metadata and item.metadata["categories"] is not None
    assert with_subquestions > 250
    assert task.grade("no idea", task.items[0]) < 0.5


def test_registry_names_and_unknown_name_error() -> None:
    names = task_names()
    assert set(TASK_SLICES) | {"generated_arithmetic"} <= set(names)
    with pytest.raises(UnknownTaskError) as info:
        get_task("arc-easy")
    message = str(info.value)
    assert "unknown task 'arc-easy'" in message
    for name in names:
        assert name in message
    assert get_task("arc_easy") is get_task("arc_easy")  # cached


def test_register_and_unregister() -> None:
    register_task("two_sums", lambda: get_task("gsm8k").subset(2, seed=0))
    try:
        assert len(get_task("two_sums")) == 2
        with pytest.raises(ValueError, match="already registered"):
            register_task("two_sums", lambda: get_task("gsm8k"))
        register_task("two_sums", lambda: get_task("gsm8k").subset(3), replace=True)
        assert len(get_task("two_sums")) == 3
    finally:
        unregister_task("two_sums")
    assert "two_sums" not in task_names()
    with pytest.raises(UnknownTaskError):
        unregister_task("two_sums")


def test_boolq_is_balanced_enough_and_free_form() -> None:
    task = get_task("boolq")
    answers = [it.answer for it in task.items]
    assert set(answers) == {"yes", "no"}
    assert not task.is_multiple_choice
    assert task.parse("No.", task.items[0]) == "no"
    assert "Question:" in task.items[0].question
