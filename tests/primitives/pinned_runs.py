"""Simulated runs of every built-in network whose numbers are pinned by the tests.

Only APIs that predate request facts are used here, so the same code, run on the tree before facts,
produced the pinned values: accuracy per run, and a digest of every pool key the runs asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping

from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.networks import BUILTIN, Network, builtin_network, run_network
from callscale.primitives import Route, Specialist
from callscale.primitives.world import TaskWorld, synthetic_answers
from callscale.records import Request
from callscale.tasks import get_task
from callscale.tasks.items import Item, Task
from callscale.tasks.parsers import parse_number

RUNS = (("arc_easy", False), ("arc_easy", True), ("csqa", True), ("gsm8k", False), ("arithmetic", False))
ITEMS = 40


def routed_task(n: int = 60) -> Task:
    """Free-form sums labelled with one of two domains."""
    items = tuple(Item(id=f"q{i}", question=f"What is {i} + {i}? Compute it carefully.", answer=str(2 * i),
                       metadata={"domain": "math" if i % 3 else "history"}) for i in range(n))
    return Task("routed_sums", items, "{question} Answer with a number.", parser=parse_number)


async def _run(net: Network, task: Task, keys: set[str], **judges: float) -> float:
    world = TaskWorld(task, synthetic_answers(task), **judges)  # type: ignore[arg-type]

    def respond(request: Request) -> Mapping[str, float]:
        keys.add(request.key("simulated"))
        return world(request)

    result = await run_network(net, task, Engine(SimulatedBackend(respond)))
    return result.accuracy


async def _all() -> tuple[dict[str, float], str]:
    keys: set[str] = set()
    out: dict[str, float] = {}
    for name, permute in RUNS:
        task = get_task(name).subset(ITEMS)
        for network in BUILTIN:
            net = builtin_network(network, "sim", k=3, judge_model="judge", permute=permute)
            out[f"{name}/{network}/permute={permute}"] = await _run(net, task, keys, tpr=0.85, fpr=0.3, select_skill=0.6)
    specialists = {"math": Specialist("sim-math"), "history": Specialist("sim-history"), "law": Specialist("sim-law")}
    net = Network("route", (Route("route", "tiny", specialists, description_words=6, delegator_temperature=1.0),))
    out["routed_sums/route"] = await _run(net, routed_task(), keys, route_skill=0.7)
    return out, hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


def pinned_runs() -> tuple[dict[str, float], str]:
    """Accuracy of each run, and the SHA-256 of the sorted pool keys of every request made."""
    return asyncio.run(_all())


if __name__ == "__main__":
    import json

    print(json.dumps(pinned_runs(), indent=1))
