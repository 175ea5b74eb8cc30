"""Networks from Python and from YAML/TOML files; declared structure equals the ledger's count."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.networks import BUILTIN, Network, NetworkError, builtin_network, load_network, run_network
from callscale.primitives import Sample, Vote
from callscale.primitives.world import TaskWorld, synthetic_answers
from callscale.tasks import get_task
from concurrency_probe import SlowBackend

PIPELINE = """
name: draft-judge-verify
defaults: {model: sim}
stages:
  - {id: draft, op: sample, k: 4, temperature: 0.8}
  - {id: pick, op: knockout}
  - {id: check, op: verify}
"""

DAG_TOML = """
name = "two-drafters"
[defaults]
model = "sim"
[[nodes]]
id = "a"
op = "sample"
k = 3
[[nodes]]
id = "b"
op = "sample"
k = 2
model = "sim-b"
[[nodes]]
id = "fuse"
op = "fuse"
inputs = ["a", "b"]
"""


def engine_for(task_name: str, limit: int) -> tuple[Engine, object]:
    task = get_task(task_name).subset(limit)
    return Engine(SimulatedBackend(TaskWorld(task, synthetic_answers(task)))), task


@pytest.mark.parametrize("name", BUILTIN)
async def test_every_builtin_declares_what_it_spends(name: str) -> None:
    engine, task = engine_for("arc_easy", 30)
    net = builtin_network(name, "sim", k=3)
    result = await run_network(net, task, engine)  # type: ignore[arg-type]
    assert result.declared_calls == engine.ledger.total().system.calls > 0
    assert engine.ledger.depth == net.cost(defaultdict(int)).depth


async def test_yaml_pipeline_and_toml_dag(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PIPELINE)
    (tmp_path / "d.toml").write_text(DAG_TOML)
    pipeline = load_network(tmp_path / "p.yaml")
    assert [n.inputs for n in pipeline.nodes] == [(), ("draft",), ("pick",)]
    dag = load_network(tmp_path / "d.toml")
    assert dag.models() == ("sim", "sim-b")
    for net in (pipeline, dag):
        engine, task = engine_for("arithmetic", 25)
        result = await run_network(net, task, engine)  # type: ignore[arg-type]
        assert result.declared_calls == engine.ledger.total().system.calls
        assert engine.ledger.depth == net.cost(defaultdict(int)).depth
    assert pipeline.cost(defaultdict(int)).depth == 1 + 2 + 1  # draft, two knock-out rounds, verify


async def test_independent_nodes_run_concurrently() -> None:
    task = get_task("arithmetic").subset(1)
    backend = SlowBackend(TaskWorld(task, synthetic_answers(task)), max_n=1, delay_s=0.01)
    net = Network("fan", (Sample("a", "sim", 1), Sample("b", "sim", 1, temperature=0.5), Vote("v", inputs=("a", "b"))))
    await run_network(net, task, Engine(backend))
    assert backend.peak == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nodes: []", "non-empty list"),
        ("nodes:\n  - {id: a, op: teleport}", "unknown op 'teleport'"),
        ("nodes:\n  - {op: sample, model: m}", "needs a string 'id'"),
        ("nodes:\n  - {id: a, op: sample}", "missing 'model'"),
        ("nodes:\n  - {id: a, op: vote, inputs: [zz]}", "reads 'zz'"),
        ("nodes:\n  - {id: a, op: sample, model: m, k: 0}", "k must be at least 1"),
        ("nodes: [ {", "not valid YAML"),
        ("nodes:\n  - {id: r, op: route, delegator: m, specialists: 3}", "'specialists' must map"),
    ],
)
def test_network_file_errors_name_the_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(NetworkError, match=r"bad\.yaml") as info:
        load_network(path)
    assert message in str(info.value)
