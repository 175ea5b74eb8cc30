"""Generated arithmetic: deterministic, exact difficulty mix, correct answers."""

from __future__ import annotations

import collections

import pytest

from callscale.tasks import LEVELS, Level, evaluate, generate_arithmetic, generated_arithmetic_task, get_task


def test_same_seed_same_items_other_seed_other_items() -> None:
    a = generate_arithmetic(60, seed=11)
    assert a == generate_arithmetic(60, seed=11)
    b = generate_arithmetic(60, seed=12)
    assert [it.question for it in a] != [it.question for it in b]


def test_pinned_items() -> None:
    """Pins the generator: a change to it must be a visible, deliberate change."""
    items = generate_arithmetic(4, seed=0, levels=[1, 6])
    assert [(it.id, it.question, it.answer) for it in items] == [
        ("arith/s0/L6/1", "487 * 172 + 564 - 159 =", "84169"),
        ("arith/s0/L1/0", "9 + 2 =", "11"),
        ("arith/s0/L1/1", "1 + 7 =", "8"),
        ("arith/s0/L6/0", "780 + 687 - 580 * 342 =", "-196893"),
    ]


def test_exact_mix_from_weights() -> None:
    items = generate_arithmetic(100, seed=3, levels=[1, 2, 6], weights=[0.5, 0.3, 0.2])
    counts = collections.Counter(it.metadata["level"] for it in items)
    assert counts == {1: 50, 2: 30, 6: 20}
    # largest-remainder apportionment keeps the total exact
    odd = generate_arithmetic(10, seed=3, levels=[1, 2, 3], weights=[1, 1, 1])
    assert sorted(collections.Counter(it.metadata["level"] for it in odd).values()) == [3, 3, 4]
    assert generate_arithmetic(0, seed=1) == ()


def test_levels_are_graded_and_answers_correct() -> None:
    items = generate_arithmetic(600, seed=5)
    by_level: dict[int, list[int]] = collections.defaultdict(list)
    for it in items:
        level = LEVELS[it.metadata["level"]]
        numbers = [int(t) for t in it.question.replace("=", "").split() if t.isdigit()]
        assert len(numbers) == level.operands
        assert all(len(str(n)) == level.digits for n in numbers)
        ops = [t for t in it.question.split() if t in "+-*"]
        assert set(ops) <= set(level.ops)
        expr = it.question.rstrip("= ")
        assert int(it.answer) == eval(expr, {"__builtins__": {}})
        by_level[it.metadata["level"]].append(len(it.answer.lstrip("-")))
    assert set(by_level) == set(LEVELS)
    mean = {k: sum(v) / len(v) for k, v in by_level.items()}
    assert mean[1] < mean[2] < mean[5] < mean[6]


def test_questions_distinct_within_level_and_ids_unique() -> None:
    items = generate_arithmetic(120, seed=9, levels=[1])  # 2·9·9 = 162 possible level-1 questions
    assert len({it.question for it in items}) == 120
    assert len({it.id for it in items}) == 120


def test_custom_levels_and_errors() -> None:
    custom = Level(operands=5, digits=1, ops="*")
    items = generate_arithmetic(3, seed=1, levels=[custom])
    assert all(it.metadata["label"] == "5x1d[*]" and it.metadata["level"] == 1 for it in items)
    with pytest.raises(ValueError, match="unknown level"):
        generate_arithmetic(3, levels=[99])
    with pytest.raises(ValueError, match="weights"):
        generate_arithmetic(3, levels=[1, 2], weights=[1])
    with pytest.raises(ValueError):
        generate_arithmetic(3, levels=[1], weights=[0])
    with pytest.raises(ValueError):
        Level(operands=1, digits=1)
    with pytest.raises(ValueError):
        Level(operands=2, digits=1, ops="/")


def test_evaluate() -> None:
    assert evaluate("2 + 3 * 4 - 5 =") == 9
    assert evaluate("10 - 2 - 3") == 5
    assert evaluate("7 * 6") == 42
    with pytest.raises(ValueError):
        evaluate("=")


def test_task_parses_its_own_golds() -> None:
    task = generated_arithmetic_task(50, seed=2, levels=[1, 4, 6])
    assert len(task) == 50 and task.name == "generated_arithmetic"
    for item in task.items:
        assert task.parse(item.answer, item) == item.answer
        assert task.grade(f"{item.question} {item.answer}", item) == 1.0
        assert task.request(item, "m").sampling.max_tokens == 16
    default = get_task("generated_arithmetic")
    assert len(default) == 300
    assert collections.Counter(it.metadata["level"] for it in default.items) == {k: 50 for k in LEVELS}
