"""Adaptive voting from the command line: a network file with ``op: adaptive_vote`` runs (and a bad
rule is one line naming file, node and field, exit 2), and ``scale --json`` carries each part's
adaptive-voting frontier, for live pools and for recorded ones."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from callscale.cli import app
from callscale.scaling.adaptive_pools import adaptive_frontier
from callscale.scaling.analysis import FRONTIER_ORDERS
from callscale.scaling.estimate import read_pool_jsonl

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_network_file_with_adaptive_vote_runs(tmp_path: Path) -> None:
    net = tmp_path / "adaptive.yaml"
    net.write_text("name: adaptive\ndefaults: {model: sim}\nnodes:\n  - {id: av, op: adaptive_vote, rule: 'ahead:2', max: 6}\n")
    store = tmp_path / "s.sqlite"
    code, out, err = invoke("run", "--task", "arithmetic", "--backend", "simulated", "--network", str(net), "--limit", "20",
                            "--store", str(store), "--json")
    assert code == 0, err
    result = json.loads(out)
    calls = [o["detail"]["calls"] for o in result["outcomes"]]
    assert all(2 <= c <= 6 for c in calls) and {o["detail"]["ended"] for o in result["outcomes"]} <= {"rule", "cap"}
    assert result["calls_made"] == sum(calls) == result["ledger"]["total"]["system"]["calls"]
    assert result["declared_calls"] == 20 * 6  # without an answer distribution: the cap
    code, out, err = invoke("run", "--task", "arithmetic", "--backend", "simulated", "--network", str(net), "--limit", "20",
                            "--store", str(store), "--json")
    assert code == 0 and json.loads(out)["calls_made"] == 0  # every sample read from the store


def test_bad_rule_is_one_line_naming_file_node_and_field(tmp_path: Path) -> None:
    net = tmp_path / "bad.yaml"
    net.write_text("name: bad\nnodes:\n  - {id: av, op: adaptive_vote, model: sim, rule: 'ahead:zero'}\n")
    store = tmp_path / "s.sqlite"
    code, out, err = invoke("run", "--task", "arithmetic", "--backend", "simulated", "--network", str(net),
                            "--store", str(store))
    assert code == 2 and out == "" and err.strip().count("\n") == 0
    assert "bad.yaml: nodes[0] (av): field 'rule'" in err and "ahead:zero" in err
    assert not store.exists()
    net.write_text("name: bad\nnodes:\n  - {id: av, op: adaptive_vote, model: sim, max: 0}\n")
    code, _, err = invoke("run", "--task", "arithmetic", "--backend", "simulated", "--network", str(net),
                          "--store", str(store))
    assert code == 2 and "bad.yaml: nodes[0] (av): field 'max'" in err


def _check_frontier(part: dict[str, object], samples: int) -> None:
    frontier = part["frontier"]
    assert isinstance(frontier, dict)
    assert 1 <= frontier["best_k"] <= samples and frontier["samples"] == samples
    assert frontier["pareto"] and set(frontier["pareto"]) <= {r["rule"] for r in frontier["rules"]}
    saved = frontier["calls_saved"]
    if frontier["cheapest"] is None:
        assert saved is None
    else:
        cheapest = frontier["cheapest"]  # estimated over random orders: compared with the best K over the same orders
        assert frontier["orders"] > 0 and len(frontier["paired_accuracy"]) == samples
        assert cheapest["shuffled_accuracy"] >= frontier["paired_accuracy"][frontier["best_k"] - 1] - 1e-12
        assert abs(saved - (frontier["best_k"] - cheapest["shuffled_calls"])) < 1e-9


def test_scale_json_has_a_frontier_per_part_on_live_pools(tmp_path: Path) -> None:
    code, out, err = invoke("scale", "--task", "arithmetic", "--backend", "simulated", "--samples", "6", "--limit", "12",
                            "--fit-on", "3", "--predict-to", "10", "--boot", "10", "--report", str(tmp_path / "r"),
                            "--store", str(tmp_path / "s.sqlite"), "--json")
    assert code == 0, err
    _check_frontier(json.loads(out)["parts"][0], 6)


def test_scale_on_a_recorded_pool_prints_and_records_the_frontier(tmp_path: Path) -> None:
    rng = random.Random(2)
    lines = []
    for i in range(40):
        p = rng.random()
        answers = ["7" if rng.random() < p else rng.choice(["1", "2", None]) for _ in range(10)]
        lines.append(json.dumps({"id": i, "gold": "7", "answers": answers}))
    (tmp_path / "log.jsonl").write_text("\n".join(lines) + "\n")
    code, out, err = invoke("scale", "--pool", str(tmp_path / "log.jsonl"), "--fit-on", "3", "--predict-to", "10",
                            "--boot", "10", "--report", str(tmp_path / "r"))
    assert code == 0, err
    record = json.loads((tmp_path / "r" / "summary.json").read_text())[0]
    _check_frontier(record, 10)
    pool = read_pool_jsonl(tmp_path / "log.jsonl")  # the frontier of the same pool, nothing else
    assert record["frontier"] == adaptive_frontier(pool, name="log", orders=FRONTIER_ORDERS).to_dict()
    f = record["frontier"]
    assert f"adaptive voting: {f['cheapest']['rule']} reaches the best fixed K's accuracy (K={f['best_k']})" in out \
        if f["cheapest"] else f"adaptive voting: no rule tested reaches the best fixed K's accuracy (K={f['best_k']})" in out
