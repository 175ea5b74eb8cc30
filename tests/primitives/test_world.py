"""The simulated world answers from request facts, exactly as the string-matching world answered from prompts."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping

import pytest
from old_world import StringWorld
from pinned_runs import pinned_runs, routed_task

from callscale.backends.base import BackendError
from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.networks import BUILTIN, Network, builtin_network, run_network
from callscale.primitives import Filter, MapReduce, Route, Sample, Specialist, Vote
from callscale.primitives.facts import OPS, item_facts, task_request, verify_facts
from callscale.primitives.prompts import select_prompt, verify_prompt
from callscale.primitives.world import SimulatedWorld, TaskWorld, simulated_world, synthetic_answers
from callscale.records import Fact, Request
from callscale.tasks import get_task
from callscale.tasks.items import Item, Task
from callscale.tasks.parsers import parse_number

MC = Task("capitals", (Item(id="fr", question="Capital of France?", choices=("Rome", "Paris", "Oslo"), answer="B"),),
          "{question}\n{options}")
SUMS = Task("sums", (Item(id="a", question="2+2?", answer="4", metadata={"domain": "math"}),), "{question}",
            parser=parse_number)


class Compared:
    """A responder answering with the facts world and checking every answer against the string world."""

    def __init__(self, task: Task, **judges: float) -> None:
        answers = synthetic_answers(task)
        self.new = TaskWorld(task, answers, **judges)  # type: ignore[arg-type]
        self.old = StringWorld(task, answers, **judges)  # type: ignore[arg-type]
        self.ops: Counter[str] = Counter()
        self.mismatches: list[tuple[str, object, object]] = []

    def __call__(self, request: Request) -> Mapping[str, float]:
        got, want = self.new(request), self.old(request)
        self.ops[str(request.facts["op"])] += 1
        if list(got.items()) != list(want.items()):  # same answers, probabilities and order (the draw walks it)
            self.mismatches.append((request.text[:80], got, want))
        return got


# -- the same distributions as the string-matching world ---------------------------------------------------
@pytest.mark.parametrize(("name", "permute"), [("arc_easy", False), ("arc_easy", True), ("csqa", True),
                                               ("gsm8k", False), ("arithmetic", False), ("boolq", False)])
async def test_every_builtin_network_sees_the_string_worlds_distributions(name: str, permute: bool) -> None:
    task = get_task(name).subset(25)
    responder = Compared(task, tpr=0.85, fpr=0.3, select_skill=0.6)
    engine = Engine(SimulatedBackend(responder))
    for network in BUILTIN:
        await run_network(builtin_network(network, "sim", k=4, judge_model="judge", permute=permute), task, engine)
    assert responder.mismatches == []
    assert set(responder.ops) == {"generate", "verify", "select", "fuse"}


async def test_routes_pipelines_and_filters_see_the_string_worlds_distributions() -> None:
    task = routed_task(45)
    responder = Compared(task, route_skill=0.7, tpr=1.0, fpr=0.0)
    engine = Engine(SimulatedBackend(responder))
    specialists = {"math": Specialist("sim-math"), "history": Specialist("sim-history"), "law": Specialist("sim-law")}
    for words in (5, 12):
        await run_network(Network("route", (Route("route", "tiny", specialists, description_words=words,
                                                  delegator_temperature=1.0),)), task, engine)
    pipeline = Network("pipe", (Sample("draft", "sim", 3), Filter("keep", "sim", inputs=("draft",)),
                                Sample("again", "sim", 2, inputs=("keep",)), Vote("vote", inputs=("again",))))
    await run_network(pipeline, task, engine)
    assert responder.mismatches == []
    assert set(responder.ops) == {"generate", "verify", "route"}


def test_builtin_networks_give_the_numbers_they_gave_before_facts() -> None:
    """Accuracies and every pool key asked for, captured on the string-matching world (pinned_runs.py)."""
    accuracy, keys = pinned_runs()
    assert keys == "558c781da2af0f12cf6224c537a75e5e3a7cc92d77fbb9c61e19e0c12bd60a22"
    assert accuracy == pytest.approx(BEFORE, abs=1e-12)


BEFORE = {
    "arc_easy/generate/permute=False": 0.5, "arc_easy/vote/permute=False": 0.625,
    "arc_easy/filter_vote/permute=False": 0.7125, "arc_easy/select/permute=False": 0.675,
    "arc_easy/knockout/permute=False": 0.65, "arc_easy/fuse/permute=False": 0.625,
    "arc_easy/verify/permute=False": 0.5, "arc_easy/generate/permute=True": 0.5,
    "arc_easy/vote/permute=True": 0.6541666666666667, "arc_easy/filter_vote/permute=True": 0.7291666666666667,
    "arc_easy/select/permute=True": 0.85, "arc_easy/knockout/permute=True": 0.725,
    "arc_easy/fuse/permute=True": 0.3, "arc_easy/verify/permute=True": 0.5,
    "csqa/generate/permute=True": 0.5, "csqa/vote/permute=True": 0.6916666666666667,
    "csqa/filter_vote/permute=True": 0.7625, "csqa/select/permute=True": 0.65, "csqa/knockout/permute=True": 0.725,
    "csqa/fuse/permute=True": 0.175, "csqa/verify/permute=True": 0.5,
    "gsm8k/generate/permute=False": 0.475, "gsm8k/vote/permute=False": 0.4833333333333333,
    "gsm8k/filter_vote/permute=False": 0.5583333333333333, "gsm8k/select/permute=False": 0.625,
    "gsm8k/knockout/permute=False": 0.65, "gsm8k/fuse/permute=False": 0.475, "gsm8k/verify/permute=False": 0.475,
    "arithmetic/generate/permute=False": 0.55, "arithmetic/vote/permute=False": 0.675,
    "arithmetic/filter_vote/permute=False": 0.7375, "arithmetic/select/permute=False": 0.75,
    "arithmetic/knockout/permute=False": 0.625, "arithmetic/fuse/permute=False": 0.65,
    "arithmetic/verify/permute=False": 0.55, "routed_sums/route": 0.5,
}


# -- each primitive's distribution, by hand ----------------------------------------------------------------
def judge(prompt: str, facts: Mapping[str, Fact]) -> Request:
    return Request.chat("judge", prompt, facts=facts)


def test_generation_renders_permuted_letters() -> None:
    world = TaskWorld(MC, {"fr": {"B": 0.7, "A": 0.2, "no idea": 0.1}})
    item = MC.items[0]
    assert world(task_request(MC, item, "m")) == {"B": 0.7, "A": 0.2, "no idea": 0.1}
    for seed in range(6):
        shown = world(task_request(MC, item, "m", permutation_seed=seed))
        assert shown == {MC.display_letter("B", item, seed): 0.7, MC.display_letter("A", item, seed): 0.2, "no idea": 0.1}
        # the letter shown for the gold option is the one the model's prompt lists Paris under
        letter = MC.display_letter("B", item, seed)
        assert f"{letter}. Paris" in MC.prompt(item, seed)


def test_verifier_says_yes_with_tpr_and_fpr() -> None:
    world = TaskWorld(MC, {"fr": {"B": 1.0}}, tpr=0.9, fpr=0.25)
    item = MC.items[0]
    for answer, p in (("B", 0.9), ("A", 0.25), (None, 0.25)):
        request = judge(verify_prompt(item.question, item.choices, answer), verify_facts(MC, item, answer))
        assert world(request) == {"yes": p, "no": pytest.approx(1 - p)}


def test_selector_skill_spreads_over_correct_candidates() -> None:
    world = TaskWorld(SUMS, {"a": {"4": 1.0}}, select_skill=0.6)
    listed = ("4", "5", "4", "(no answer)")
    facts = item_facts(SUMS, SUMS.items[0], "select", candidates=listed)
    dist = world(judge("which?", facts))
    assert dist == pytest.approx({"1": 0.4 / 4 + 0.3, "2": 0.1, "3": 0.1 + 0.3, "4": 0.1})
    none_right = world(judge("which?", {**facts, "candidates": ("5", "6")}))
    assert none_right == {"1": 0.5, "2": 0.5}


def test_fuser_returns_the_plurality_it_reads() -> None:
    world = TaskWorld(SUMS, {"a": {"4": 1.0}})
    facts = item_facts(SUMS, SUMS.items[0], "fuse", candidates=("It is 4", "5", "4", "5", "gibberish"))
    assert world(judge("fuse", facts)) == {"Answer: 4": 0.5, "Answer: 5": 0.5}
    assert world(judge("fuse", {**facts, "candidates": ("x",)})) == {"I cannot tell.": 1.0}


def test_delegator_picks_the_items_domain_with_route_skill() -> None:
    world = TaskWorld(SUMS, {"a": {"4": 1.0}}, route_skill=0.7)
    facts = item_facts(SUMS, SUMS.items[0], "route", description="2+2?", specialists=("law", "math", "art"))
    assert world(judge("route", facts)) == pytest.approx({"law": 0.15, "art": 0.15, "math": 0.7})
    assert world(judge("route", {**facts, "specialists": ("law", "art")})) == {"law": 0.5, "art": 0.5}
    assert world(judge("route", {**facts, "specialists": ("math",)})) == {"math": 1.0}


# -- several tasks in one world ----------------------------------------------------------------------------
async def test_one_world_answers_two_tasks_sharing_item_ids() -> None:
    first = Task("first", (Item(id="1", question="2+2?", answer="4"),), "{question}", parser=parse_number)
    second = Task("second", (Item(id="1", question="Sky?", choices=("red", "blue"), answer="B"),), "{question}{options}")
    world = simulated_world(first, second, answers={"first": {"1": {"4": 1.0}}, "second": {"1": {"A": 1.0}}})
    assert world(task_request(first, first.items[0], "sim")) == {"4": 1.0}
    assert world(task_request(second, second.items[0], "sim")) == {"A": 1.0}
    engine = Engine(SimulatedBackend(world))
    net = builtin_network("vote", "sim", k=3)
    assert (await run_network(net, first, engine)).accuracy == 1.0
    assert (await run_network(net, second, engine)).accuracy == 0.0


async def test_a_shared_world_gives_each_task_its_own_numbers() -> None:
    tasks = [get_task("arc_easy").subset(20), get_task("arithmetic").subset(20), get_task("gsm8k").subset(20)]
    shared = Engine(SimulatedBackend(simulated_world(*tasks)))
    for task in tasks:
        alone = Engine(SimulatedBackend(TaskWorld.of(task)))
        for name in ("vote", "filter_vote", "select", "fuse"):
            net = builtin_network(name, "sim", k=3)
            assert (await run_network(net, task, shared)).accuracy == (await run_network(net, task, alone)).accuracy


def test_simulated_world_checks_its_answers_and_tasks() -> None:
    other = Task("sums", (Item(id="a", question="3+3?", answer="6"),), "{question}")
    with pytest.raises(ValueError, match="two different items"):
        simulated_world(SUMS, other)
    assert simulated_world(SUMS, SUMS)(task_request(SUMS, SUMS.items[0], "m"))  # the same task twice is one task
    with pytest.raises(ValueError, match="no answer distributions for task 'capitals'"):
        simulated_world(SUMS, MC, answers={"sums": {"a": {"4": 1.0}}})
    with pytest.raises(ValueError, match="unknown task"):
        simulated_world(SUMS, answers={"sums": {"a": {"4": 1.0}}, "nope": {}})
    with pytest.raises(ValueError, match="no answer distribution for item 'a'"):
        TaskWorld(SUMS, {})
    with pytest.raises(TypeError):
        simulated_world(SUMS, skill=0.5)
    assert isinstance(TaskWorld.of(SUMS).world, SimulatedWorld)


# -- what the world refuses --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (Request.chat("mine", "2+2?"), "has none"),
        (Request.chat("m", "2+2?", facts={"task": "sums", "op": "generate"}), "lack 'item'"),
        (Request.chat("m", "2+2?", facts={"task": "nope", "item": "a", "op": "generate"}), "no task 'nope'"),
        (Request.chat("m", "2+2?", facts={"task": "sums", "item": "zz", "op": "generate"}), "no item 'zz'"),
        (Request.chat("m", "2+2?", facts={"task": "sums", "item": "a", "op": "guess"}), "no known op"),
        (Request.chat("m", "2+2?", facts={"task": "sums", "item": "a", "op": "map"}), "does not simulate 'map'"),
        (Request.chat("m", "2+2?", facts={"task": "sums", "item": "a", "op": "verify"}), "lack 'shown'"),
    ],
)
def test_requests_without_usable_facts_are_refused(request_: Request, message: str) -> None:
    with pytest.raises(BackendError, match=message):
        TaskWorld(SUMS, {"a": {"4": 1.0}})(request_)


async def test_a_users_own_prompt_fails_with_the_reason_not_a_wrong_answer() -> None:
    engine = Engine(SimulatedBackend(TaskWorld(SUMS, {"a": {"4": 1.0}})))
    reply = (await engine.complete(Request.chat("sim", "2+2?"), 1))[0]
    assert not reply.ok and reply.error is not None and "facts" in reply.error


def test_prompt_wording_does_not_matter() -> None:
    world = TaskWorld(MC, {"fr": {"B": 1.0}}, tpr=0.9, fpr=0.1)
    item = MC.items[0]
    reworded = judge("Is B right? Say yes or no.", verify_facts(MC, item, "B"))
    assert world(reworded) == {"yes": 0.9, "no": pytest.approx(0.1)}
    listed = judge(select_prompt(item.question, item.choices, ["A", "B"]).upper(),
                   item_facts(MC, item, "select", candidates=("A. Rome", "B. Paris")))
    assert world(listed) == {"1": 0.25, "2": 0.75}


# -- facts are not identity --------------------------------------------------------------------------------
async def test_facts_never_change_a_pool_key() -> None:
    task, routed = get_task("arc_easy").subset(8), routed_task(6)
    mr = Task("docs", (Item(id="d", question="How many?", answer="3", metadata={"document": "w " * 30}),), "{question}")
    world = simulated_world(task, routed, mr)
    seen: list[Request] = []

    def respond(request: Request) -> Mapping[str, float]:
        seen.append(request)
        return {"3": 1.0} if request.facts["op"] in ("map", "reduce") else world(request)

    engine = Engine(SimulatedBackend(respond))
    for name in BUILTIN:
        await run_network(builtin_network(name, "sim", k=3, permute=True), task, engine)
    specialists = {"math": Specialist("a"), "history": Specialist("b")}
    await run_network(Network("r", (Route("r", "tiny", specialists),)), routed, engine)
    await run_network(Network("mr", (MapReduce("mr", "m", chunk_words=10),)), mr, engine)
    assert {str(r.facts["op"]) for r in seen} == set(OPS)
    for request in seen:
        bare = dataclasses.replace(request, facts={})
        assert request.facts and not bare.facts
        assert request.identity_json == bare.identity_json and request.key("simulated") == bare.key("simulated")
        assert request == bare and request.seed_for(0) == bare.seed_for(0)
        assert Request.from_identity(request.identity()).key("simulated") == request.key("simulated")
