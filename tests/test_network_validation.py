"""A network file is checked whole when it is loaded, before any call: each bad input is one line on
stderr naming the file, the node and the field, exit code 2, and nothing is written to the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app
from callscale.networks import Network, NetworkError
from callscale.primitives import Sample, Verify, Vote

runner = CliRunner()


def run_file(tmp_path: Path, text: str, name: str = "pipeline.yaml") -> tuple[int, str, str, Path, Path]:
    """``callscale run`` of the network file ``text`` on the simulated backend: exit code, stdout, stderr, file, store."""
    path, store = tmp_path / name, tmp_path / "store.sqlite"
    path.write_text(text)
    result = runner.invoke(app, ["run", "--task", "arithmetic", "--backend", "simulated", "--limit", "5",
                                 "--network", str(path), "--store", str(store), "--json"])
    return result.exit_code, result.stdout, result.stderr, path, store


def stages(draft: str, then: str = "{id: vote, op: vote}") -> str:
    """A two-stage pipeline: a ``sample`` node with the fields ``draft``, then ``then``."""
    return f"name: p\nstages:\n  - {{id: draft, op: sample, {draft}}}\n  - {then}\n"


BAD = {
    "k float": (stages("k: 2.5"), "stages[0] (draft)", "field 'k' must be an integer ≥ 1, got 2.5"),
    "k bool": (stages("k: true"), "stages[0] (draft)", "field 'k' must be an integer ≥ 1, got true"),
    "k too large": (stages("k: 1000000000"), "stages[0] (draft)",
                    "field 'k' is out of range: k must be at most 100000, got 1000000000"),
    "k string": (stages("k: five"), "stages[0] (draft)", "field 'k' must be an integer ≥ 1, got 'five'"),
    "temperature string": (stages("k: 3, temperature: hot"), "stages[0] (draft)",
                           "field 'temperature' must be a finite number ≥ 0, got 'hot'"),
    "temperature negative": (stages("k: 3, temperature: -1"), "stages[0] (draft)",
                             "field 'temperature' is out of range: temperature must be at least 0, got -1"),
    "max_tokens negative": (stages("k: 3, max_tokens: -5"), "stages[0] (draft)",
                            "field 'max_tokens' is out of range: max_tokens must be at least 1, got -5"),
    "inputs a string": ("nodes:\n  - {id: draft, op: sample, k: 3}\n  - {id: vote, op: vote, inputs: draft}\n",
                        "nodes[1] (vote)", "field 'inputs' must be a list of node ids, got 'draft' (write [draft])"),
    "verify after sample": (stages("k: 3", "{id: check, op: verify}"), "stages[1] (check)",
                            "field 'inputs': op 'verify' needs a decided answer, but 'draft' (op 'sample') gives "
                            "candidates; put a node that decides (e.g. vote, select, knockout or fuse) between them"),
    "output does not decide": ("stages:\n  - {id: draft, op: sample, k: 3}\n", "stages[0] (draft)",
                               "field 'output': op 'sample' gives candidates, not a decided answer; end the network "
                               "with a node that decides (e.g. vote, select, knockout or fuse)"),
    "unknown field": (stages("k: 3, kk: 2"), "stages[0] (draft)", "unknown fields ['kk'] for op 'sample'; allowed: "),
    "unknown op": ("stages:\n  - {id: draft, op: teleport}\n", "stages[0] (draft)",
                   "unknown op 'teleport' in field 'op'; choose one of generate, sample, "),
    "missing input": ("nodes:\n  - {id: draft, op: sample, k: 3}\n  - {id: vote, op: vote, inputs: [drfat]}\n",
                      "nodes[1] (vote)", "field 'inputs' reads 'drfat', which is not a node (nodes: draft, vote)"),
    "cycle": ("nodes:\n  - {id: a, op: sample, inputs: [c]}\n  - {id: b, op: sample, inputs: [a]}\n"
              "  - {id: c, op: vote, inputs: [b]}\n", "nodes[0] (a)", "field 'inputs' makes a cycle: a → b → c → a"),
}


@pytest.mark.parametrize(("text", "place", "message"), BAD.values(), ids=BAD.keys())
def test_bad_network_file_is_one_line_exit_2_and_nothing_is_stored(tmp_path: Path, text: str, place: str,
                                                                    message: str) -> None:
    code, out, err, path, store = run_file(tmp_path, text)
    assert code == 2 and out == ""
    assert err.endswith("\n") and err.count("\n") == 1  # exactly one line
    assert err.startswith(f"error: {path}: {place}: {message}")
    assert not store.exists()


def test_toml_files_get_the_same_checks(tmp_path: Path) -> None:
    text = 'name = "p"\n[[nodes]]\nid = "draft"\nop = "sample"\nk = 3\n[[nodes]]\nid = "vote"\nop = "vote"\ninputs = "draft"\n'
    code, _, err, path, store = run_file(tmp_path, text, "pipeline.toml")
    assert code == 2 and err.strip() == (f"error: {path}: nodes[1] (vote): field 'inputs' must be a list of node ids, "
                                         "got 'draft' (write [draft])")
    assert not store.exists()


DAG = {
    "a": "{id: a, op: sample, k: 3}",
    "b": "{id: b, op: sample, k: 2, temperature: 0.5}",
    "vote": "{id: vote, op: vote, inputs: [a, b]}",
    "check": "{id: check, op: verify, inputs: [vote]}",
}


@pytest.mark.parametrize("order", [["a", "b", "vote", "check"], ["vote", "a", "b", "check"]], ids=["in order", "any order"])
def test_valid_dag_file_still_runs(tmp_path: Path, order: list[str]) -> None:
    text = "name: dag\nnodes:\n" + "".join(f"  - {DAG[node]}\n" for node in order)
    code, out, err, _, store = run_file(tmp_path, text)
    assert code == 0, err
    result = json.loads(out)
    assert result["network"] == "dag" and result["declared_calls"] == 5 * (3 + 2 + 1) == result["calls_made"]
    assert store.exists()


def test_python_networks_get_the_kind_and_output_checks() -> None:
    with pytest.raises(NetworkError, match=r"^network 'x': node 'check': field 'inputs': op 'verify' needs a decided"):
        Network("x", (Sample("draft", "m", 3), Verify("check", "m", inputs=("draft",))))
    with pytest.raises(NetworkError, match=r"^network 'x': node 'draft': field 'output': op 'sample' gives candidates"):
        Network("x", (Sample("draft", "m", 3), Vote("vote", inputs=("draft",))), output="draft")
