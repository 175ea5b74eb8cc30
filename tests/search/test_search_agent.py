"""The agent searcher: prompt, defensive parsing, repair, stats, and surviving bad LLM output."""

from __future__ import annotations

import itertools
import json

import pytest

from callscale.search.archive import Trial
from callscale.search.base import run_search, trials_to_find
from callscale.search.environments.simulated import AgentTTSBenchmark, agentts_space
from callscale.search.searchers.agent import AgentSearcher, build_prompt
from callscale.search.searchers.agent_reply import coerce_config, match_model, parse_response
from callscale.search.searchers.agent_rules import heuristic_llm
from callscale.search.space import Config

SPACE = agentts_space()
GOOD = Config.of(("72B", 1), ("3B", 15))


def _item(r: tuple[str, int], q: tuple[str, int]) -> dict[str, dict[str, object]]:
    return {"retrieval": {"model": r[0], "samples": r[1]}, "qa": {"model": q[0], "samples": q[1]}}


# -- parsing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'Guidelines: big retriever.\n```json\n[{"retrieval": {"model": "72B", "samples": 1}, '
        '"qa": {"model": "3B", "samples": 15}}]\n```',
        'Guidelines: x\n[{"retrieval": {"model": "72B", "samples": 1}, "qa": {"model": "3B", "samples": 15},},]',
        "Guidelines: x\n[{'retrieval': {'model': '72B', 'samples': 1}, 'qa': {'model': '3B', 'samples': 15}}]",
        'Sure! {"configs": [{"retrieval": ["72B", 1], "qa": ["3B", 15]}]} Hope this helps.',
        'Guidelines: x\n[[["72B", 1], ["3B", 15]]]',
        '[{"retrieval_model": "Qwen2.5-72B-Instruct", "retrieval_samples": 1, "qa_model": "3b", "qa_samples": "15"}]',
        '[{"retrieval": "72B x 1", "qa": "3B x 15"}]',
        '```python\n[{"retrieval": {"model": "72B", "samples": 1}, "qa": {"model": "3B", "samples": 15.0}}]\n```',
    ],
)
def test_parses_many_shapes_to_the_same_config(text: str) -> None:
    parsed = parse_response(text)
    assert parsed.items is not None
    config, outcome = coerce_config(parsed.items[0], SPACE, 900)
    assert config == GOOD and outcome == "valid"


def test_guideline_and_garbage() -> None:
    assert parse_response("Guidelines: use 72B upstream.\n[]").guideline == "use 72B upstream."
    assert parse_response("I cannot help with that").items is None
    assert parse_response("[{unclosed").items is None
    assert parse_response(None).items is None  # type: ignore[arg-type]


def test_model_matching() -> None:
    cands = [(m.name, m.params) for m in SPACE.stages[0].models]
    assert match_model("72B", cands) == "72B"
    assert match_model("qwen2.5-14b-instruct", cands) == "14B"
    assert match_model(32, cands) == "32B"
    assert match_model(7e9, cands) == "7B"
    assert match_model("13B", cands) is None  # not close enough to 14B
    assert match_model("llama", cands) is None
    assert match_model(True, cands) is None


def test_coercion_outcomes() -> None:
    assert coerce_config(_item(("72B", 1), ("3B", 80)), SPACE, 900) == (Config.of(("72B", 1), ("3B", 50)), "repaired")
    fixed, outcome = coerce_config(_item(("72B", 4), ("14B", 30)), SPACE, 900)
    assert outcome == "repaired" and fixed is not None and SPACE.within(fixed, 900)
    assert coerce_config(_item(("72B", 4), ("14B", 30)), SPACE, 900, repair=False) == (None, "over_budget")
    assert coerce_config(_item(("GPT-5", 1), ("3B", 3)), SPACE, 900) == (None, "unknown_model")
    assert coerce_config(_item(("72B", "many"), ("3B", 3)), SPACE, 900) == (None, "invalid")
    assert coerce_config(_item(("72B", float("nan")), ("3B", 3)), SPACE, 900) == (None, "invalid")
    assert coerce_config({"retrieval": 5}, SPACE, 900) == (None, "invalid")
    assert coerce_config("72B", SPACE, 900) == (None, "invalid")
    assert coerce_config(_item(("72B", 9), ("72B", 9)), SPACE, 30) == (None, "over_budget")  # nothing fits


# -- the searcher with scripted LLMs -----------------------------------------------------------------


def _reply(*items: object, guideline: str = "scripted") -> str:
    return f"Guidelines: {guideline}\n```json\n{json.dumps(list(items))}\n```"


def test_valid_output_is_used_as_is() -> None:
    agent = AgentSearcher(SPACE, 900, lambda p: _reply(_item(("72B", 1), ("3B", 15)), _item(("72B", 1), ("3B", 16))))
    proposals = agent.propose([], 2)
    assert [p.config for p in proposals] == [GOOD, Config.of(("72B", 1), ("3B", 16))]
    assert proposals[0].guideline == "scripted"
    s = agent.stats
    assert (s.calls, s.valid, s.repaired, s.rejected, s.fallbacks) == (1, 2, 0, 0, 0)


@pytest.mark.parametrize(
    ("llm", "field"),
    [
        (lambda p: "I think 72B is nice.", "malformed"),
        (lambda p: "```json\n[{'retrieval': \n```", "malformed"),
        (lambda p: _reply(_item(("GPT-5", 1), ("Claude", 3))), "unknown_model"),
        (lambda p: _reply({"foo": "bar"}, [1, 2, 3]), "invalid"),
        (lambda p: None, "llm_errors"),
        (lambda p: (_ for _ in ()).throw(TimeoutError("backend timeout")), "llm_errors"),
    ],
)
def test_survives_bad_output_with_random_fallback(llm: object, field: str) -> None:
    agent = AgentSearcher(SPACE, 900, llm, seed=3)  # type: ignore[arg-type]
    proposals = agent.propose([], 3)
    assert len(proposals) == 3 and len({p.config.key for p in proposals}) == 3
    assert all(SPACE.within(p.config, 900) for p in proposals)
    stats = agent.stats
    assert getattr(stats, field) >= 1 and stats.fallbacks == 3 and stats.calls == 2
    assert all("random fallback" in p.guideline for p in proposals)


def test_over_budget_is_repaired_or_rejected() -> None:
    llm = lambda p: _reply(_item(("72B", 9), ("72B", 20)))  # noqa: E731 - far over budget
    repaired = AgentSearcher(SPACE, 900, llm)
    config = repaired.propose([], 1)[0].config
    assert SPACE.within(config, 900) and repaired.stats.repaired == 1 and repaired.stats.fallbacks == 0
    strict = AgentSearcher(SPACE, 900, llm, repair=False)
    assert SPACE.within(strict.propose([], 1)[0].config, 900)
    assert strict.stats.over_budget == 2 and strict.stats.fallbacks == 1


def test_duplicates_of_the_archive_are_rejected() -> None:
    history = [Trial("s", 1, GOOD, "finished", score=0.7, cost=831.0)]
    agent = AgentSearcher(SPACE, 900, lambda p: _reply(_item(("72B", 1), ("3B", 15)), _item(("72B", 1), ("3B", 15))))
    proposals = agent.propose(history, 1)
    assert proposals[0].config != GOOD
    assert agent.stats.duplicates == 4 and agent.stats.fallbacks == 1


def test_second_attempt_gets_feedback() -> None:
    replies = iter(["no json here", _reply(_item(("72B", 1), ("3B", 15)))])
    prompts: list[str] = []

    def llm(prompt: str) -> str:
        prompts.append(prompt)
        return next(replies)

    agent = AgentSearcher(SPACE, 900, llm)
    assert agent.propose([], 1)[0].config == GOOD
    assert agent.stats.malformed == 1 and agent.stats.fallbacks == 0
    assert "Problems with your previous answer" in prompts[1] and "Problems" not in prompts[0]


def test_a_chaotic_llm_never_breaks_a_search() -> None:
    bench = AgentTTSBenchmark()
    outputs = itertools.cycle(
        [
            "garbage",
            _reply(_item(("72B", 30), ("72B", 50))),
            _reply(_item(("72B", 1), ("3B", 8)), _item(("nope", 1), ("3B", 8))),
            '```json\n{"configs": [["32B", 4], ["7B", 12]]}\n```',
            "RAISE",
        ]
    )

    def llm(prompt: str) -> str:
        out = next(outputs)
        if out == "RAISE":
            raise RuntimeError("connection reset")
        return out

    agent = AgentSearcher(bench.space, 900, llm)
    result = run_search(bench, agent, n_trials=15, batch_size=2)
    assert len(result.trials) == 15 and result.skipped == 0
    assert all(bench.space.within(t.config, 900) for t in result.trials)
    s = agent.stats
    assert s.malformed and s.llm_errors and s.unknown_model and s.repaired and s.duplicates and s.fallbacks


# -- prompt and the heuristic stand-in ---------------------------------------------------------------


def test_prompt_carries_archive_findings_and_budget() -> None:
    history = [Trial("s", 1, GOOD, "finished", score=0.7342, cost=831.0, guideline="go big upstream")]
    prompt = build_prompt(SPACE, 900, history, 3)
    assert "#1: retrieval=72Bx1, qa=3Bx15 -> score 0.7342, cost 831" in prompt
    assert all(f"Finding {k}" in prompt for k in (1, 2, 3))
    assert "go big upstream" in prompt and "exactly 3 new configurations" in prompt
    assert "72B: 814 + 48/sample" in prompt
    ablated = build_prompt(SPACE, 900, history, 3, findings=(1,))
    assert "Finding 1" in ablated and "Finding 2" not in ablated and "Finding 3" not in ablated


def test_heuristic_stand_in_reaches_the_optimum() -> None:
    bench = AgentTTSBenchmark()
    opt = bench.optimum(900)
    agent = AgentSearcher(bench.space, 900, heuristic_llm)
    result = run_search(bench, agent, n_trials=40, batch_size=4, stop=lambda ts: ts[-1].config == opt.config)
    assert trials_to_find(result.trials, opt.config.key) is not None
    assert agent.stats.fallbacks == 0 and agent.stats.valid > 0
    assert result.trials[-1].guideline.startswith("the best so far")
