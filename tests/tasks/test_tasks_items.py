"""Item and Task: prompts, requests, option permutations, parsing back, scoring."""

from __future__ import annotations

import collections
import pickle

import pytest

from callscale.records import Request
from callscale.tasks import Item, Task, parse_number, permutation
from callscale.tasks.parsers import AnswerParser
from callscale.tasks.scorers import exact_match, normalized_match, numeric_match, reference_recall, reference_strings

MC = Item(id="q1", question="Which is a mammal?", choices=("trout", "whale", "eagle", "frog"), answer="B")
FREE = Item(id="q2", question="2 + 3 =", answer="5")


def mc_task(**kwargs: object) -> Task:
    return Task(name="mc", items=(MC,), template="{question}\n{options}\nAnswer with {letters}.", **kwargs)  # type: ignore[arg-type]


def test_item_validation() -> None:
    with pytest.raises(ValueError, match="not one of"):
        Item(id="x", question="?", choices=("a", "b"), answer="C")
    with pytest.raises(ValueError, match="choices"):
        Item(id="x", question="?", choices=("a",), answer="A")
    with pytest.raises(ValueError, match="id"):
        Item(id="", question="?", answer="1")
    item = Item(id="x", question="?", choices=["a", "b"], answer="A")  # type: ignore[arg-type]
    assert item.choices == ("a", "b")
    assert item.gold_text == "a"
    assert FREE.gold_text == "5" and not FREE.is_multiple_choice


def test_item_is_hashable_and_picklable() -> None:
    item = Item(id="x", question="?", answer="1", metadata={"k": [1, 2]})
    assert hash(item) == hash(Item(id="x", question="?", answer="1", metadata={"other": 1}))
    assert pickle.loads(pickle.dumps(item)) == item


def test_prompt_and_request() -> None:
    task = mc_task(sampling={"max_tokens": 16}, system="Be brief.")
    prompt = task.prompt(MC)
    assert prompt == "Which is a mammal?\nA. trout\nB. whale\nC. eagle\nD. frog\nAnswer with A, B, C or D."
    req = task.request(MC, "smollm2", temperature=0.3, stop=["\n"])
    assert isinstance(req, Request)
    assert req.model == "smollm2"
    assert req.sampling.max_tokens == 16 and req.sampling.temperature == 0.3 and req.sampling.stop == ("\n",)
    assert req.messages is not None and req.messages[0].content == "Be brief."
    assert req.messages[-1].content == prompt
    # overriding defaults
    assert task.request(MC, "m", max_tokens=4).sampling.max_tokens == 4
    assert task.request(MC, "m", system="Other").messages[0].content == "Other"  # type: ignore[index]


def test_permutation_is_deterministic_and_a_permutation() -> None:
    assert permutation("q1", 4, None) == (0, 1, 2, 3)
    seen = set()
    for seed in range(400):
        order = permutation("q1", 4, seed)
        assert sorted(order) == [0, 1, 2, 3]
        assert order == permutation("q1", 4, seed)
        seen.add(order)
    assert len(seen) == 24  # all orders of four options occur
    assert permutation("q1", 4, 5) != permutation("q2", 4, 5) or permutation("q1", 4, 6) != permutation("q2", 4, 6)


def test_permutation_spreads_the_gold_over_positions() -> None:
    task = mc_task()
    positions = collections.Counter(task.display_letter("B", MC, seed) for seed in range(400))
    assert set(positions) == {"A", "B", "C", "D"}
    assert min(positions.values()) > 60  # roughly uniform: 100 expected each


def test_permuted_prompt_is_a_different_pool_and_parses_back() -> None:
    task = mc_task()
    plain = task.request(MC, "m")
    for seed in range(20):
        shown = task.displayed_choices(MC, seed)
        assert shown is not None and sorted(shown) == sorted(MC.choices or ())
        letter = task.display_letter("B", MC, seed)
        assert shown["ABCD".index(letter)] == "whale"
        assert f"{letter}. whale" in task.prompt(MC, seed)
        assert task.parse(f"The answer is {letter}.", MC, permutation_seed=seed) == "B"
        assert task.parse("whale", MC, permutation_seed=seed) == "B"
        assert task.grade(letter, MC, permutation_seed=seed) == 1.0
        if task.order(MC, seed) != (0, 1, 2, 3):
            assert task.request(MC, "m", permutation_seed=seed).key("b") != plain.key("b")


def test_letter_bias_becomes_noise_under_permutation() -> None:
    """A model that always says "A" is right only when the gold is shown first: ~1/4 of seeds."""
    task = mc_task()
    hits = sum(task.grade("A", MC, permutation_seed=s) for s in range(400))
    assert task.grade("A", MC) == 0.0
    assert 60 < hits < 140


def test_unpermute_edge_cases() -> None:
    task = mc_task()
    assert task.unpermute(None, MC, 3) is None
    assert task.unpermute("Z", MC, 3) is None
    assert task.unpermute("5", FREE, 3) == "5"


def test_parse_never_raises_even_with_a_broken_parser() -> None:
    def broken(text: str, choices: object) -> str | None:
        raise RuntimeError("boom")

    parser: AnswerParser = broken  # type: ignore[assignment]
    task = Task(name="t", items=(FREE,), template="{question}", parser=parser)
    assert task.parse("5", FREE) is None
    assert task.grade("5", FREE) == 0.0


def test_default_parser_and_scorer() -> None:
    assert mc_task().parse("(c)", MC) == "C"
    free = Task(name="t", items=(Item(id="a", question="Capital of France?", answer="paris"),), template="{question}")
    assert free.grade("The answer is Paris.", free.items[0]) == 1.0


def test_template_validation() -> None:
    with pytest.raises(ValueError, match="options"):
        Task(name="t", items=(MC,), template="{question}")
    with pytest.raises(ValueError, match="unknown"):
        Task(name="t", items=(FREE,), template="{question} {passage}")
    with pytest.raises(ValueError, match="question"):
        Task(name="t", items=(FREE,), template="no fields")
    with pytest.raises(ValueError, match="sampling"):
        Task(name="t", items=(FREE,), template="{question}", sampling={"temprature": 1.0})
    with pytest.raises(ValueError, match="duplicate"):
        Task(name="t", items=(FREE, FREE), template="{question}")


def test_braces_in_questions_are_safe() -> None:
    item = Item(id="b", question="Evaluate {x} for x = {1}", answer="1")
    assert Task(name="t", items=(item,), template="Q: {question}").prompt(item) == "Q: Evaluate {x} for x = {1}"


def test_subset_split_and_lookup() -> None:
    items = tuple(Item(id=f"i{k}", question="q", answer=str(k)) for k in range(20))
    task = Task(name="t", items=items, template="{question}", parser=parse_number)
    assert [it.id for it in task.subset(3).items] == ["i0", "i1", "i2"]
    sub = task.subset(5, seed=7)
    assert len(sub) == 5 and sub.items == task.subset(5, seed=7).items
    assert [it.id for it in sub.items] == sorted((it.id for it in sub.items), key=lambda i: int(i[1:]))
    train, test = task.split(8, seed=1)
    assert len(train) == 8 and len(test) == 12
    assert not {i.id for i in train} & {i.id for i in test}
    assert task.item("i4").answer == "4"
    with pytest.raises(KeyError):
        task.item("nope")
    assert next(iter(task)).id == "i0" and len(task) == 20
    assert "items=20" in repr(task)
    assert task.with_template("Q: {question}").prompt(items[0]) == "Q: q"


def test_scorers() -> None:
    assert exact_match("B", MC) == 1.0 and exact_match("A", MC) == 0.0 and exact_match(None, MC) == 0.0
    assert numeric_match("5.0", FREE) == 1.0 and numeric_match("6", FREE) == 0.0
    assert numeric_match("five", FREE) == 0.0 and numeric_match(None, FREE) == 0.0
    assert normalized_match("The 5", FREE) == 1.0
    fan = Item(id="f", question="?", answer="x", metadata={"answer": {"Pat Burrell": "Right", "JD Drew": "Left"}})
    assert reference_recall("pat burrell: right. jd drew: left", fan) == 1.0
    assert reference_recall("pat burrell right", fan) == 0.5
    assert reference_recall(None, fan) == 0.0
    assert reference_strings([True, 1_604_898, None]) == ["yes", "1604898"]
    numbers = Item(id="n", question="?", answer="x", metadata={"answer": ["1,604,898"]})
    assert reference_recall("about 1604898 people", numbers) == 1.0
    assert MC.answer == "B" and Task(name="t", items=(FREE,), template="{question}").score(None, FREE) == 0.0
