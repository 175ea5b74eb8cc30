"""``optimize --network FILE``: a user's own network, its declared choices searched live within a
budget priced with the catalogue (m·n, FLOPs or dollars)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app
from callscale.records import ModelCard
from callscale.search.network_space import SearchableNetwork, price

runner = CliRunner()

CATALOGUE = """models:
  small: {backend: simulated, params: 1B, price_in: 0.1, price_out: 0.4}
  big: {backend: simulated, params: 8B, price_in: 1.0, price_out: 4.0}
"""
NETWORK = """name: draft-judge
search: {prompt_tokens: 50, answer_tokens: 10}
nodes:
  - {id: draft, op: sample, model: {choose: [small, big]}, k: {choose: [1, 2, 4, 8]}}
  - {id: pick, op: select, model: {choose: [small, big]}, inputs: [draft]}
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "models.yaml").write_text(CATALOGUE)
    (tmp_path / "net.yaml").write_text(NETWORK)
    return {"models": tmp_path / "models.yaml", "net": tmp_path / "net.yaml", "store": tmp_path / "s.sqlite"}


def optimize(files: dict[str, Path], *args: str) -> tuple[int, dict, str]:
    result = runner.invoke(app, ["optimize", "--task", "arithmetic", "--backend", "simulated", "--network",
                                 str(files["net"]), "--models", str(files["models"]), "--store", str(files["store"]),
                                 "--train", "12", "--test", "12", *args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else {}, result.stderr


def test_dollar_budget_search_picks_per_stage_models_within_budget_and_reuses_pools(files: dict[str, Path]) -> None:
    budget = 1e-4
    code, out, err = optimize(files, "--searcher", "grid", "--trials", "40", "--budget-unit", "dollars",
                              "--budget", str(budget))
    assert code == 0, err
    assert out["network"] == "draft-judge" and out["unit"] == "dollars"
    best = out["best"]
    assert set(best["config"]) == {"draft", "pick"} and best["cost"] <= budget
    assert best["declared_cost_per_item"] <= best["cost"] and best["measured_cost_per_item"] > 0
    assert out["test"]["score"] == out["test_score"]
    # every configuration within budget was tried (grid), and each stage's price is the brute-force one
    net = SearchableNetwork.load(files["net"])
    cards = {"small": ModelCard("small", 10**9, 0.1, 0.4), "big": ModelCard("big", 8 * 10**9, 1.0, 4.0)}
    fits = [c for c in net.space(cards, "dollars").enumerate(Fraction(str(budget)))]
    assert out["trials"] == len(fits) == out["configurations_within_budget"]
    config = next(c for c in fits if net.space(cards, "dollars").named(c) == best["config"])
    assert best["declared_cost_per_item"] == pytest.approx(float(price(net.network(config).cost(net.sizes()), cards,
                                                                         "dollars")))
    again = optimize(files, "--searcher", "grid", "--trials", "40", "--budget-unit", "dollars", "--budget", str(budget))[1]
    assert again["calls"]["made now"] == 0 and again["best"]["config"] == best["config"]


def test_flops_budget_and_terminal_output(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["optimize", "--task", "arithmetic", "--backend", "simulated", "--network",
                                 str(files["net"]), "--models", str(files["models"]), "--store", str(files["store"]),
                                 "--train", "8", "--test", "8", "--searcher", "random", "--trials", "3",
                                 "--budget-unit", "flops"])
    assert result.exit_code == 0, result.stderr
    assert "FLOPs/item" in result.stdout and "measured on the training items" in result.stdout


@pytest.mark.parametrize(("edit", "extra", "message"), [
    (("small, big]}, k", "small, huge]}, k"), (), "net.yaml: node 'draft': field 'model': unknown model 'huge'"),
    (("k: {choose: [1, 2, 4, 8]}", "k: {choose: [1, 0]}"), (), "field 'k' is out of range"),
    (("{id: pick, op: select", "{id: pick, op: selekt"), (), "unknown op 'selekt'"),
    (("", ""), ("--budget-unit", "euros"), "unknown --budget-unit 'euros'"),
    (("", ""), ("--candidates", "small,big"), "--candidates applies to the draft → answer search"),
    (("", ""), ("--budget", "1e-12", "--budget-unit", "dollars"), "no configuration fits budget 1e-12"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(files: dict[str, Path], edit: tuple[str, str],
                                                         extra: tuple[str, ...], message: str) -> None:
    if edit[0]:
        files["net"].write_text(NETWORK.replace(*edit))
    code, _, err = optimize(files, "--trials", "2", *extra)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    if "budget 1e-12" not in message:
        assert not files["store"].exists()


def test_unpriced_model_with_a_dollar_budget(files: dict[str, Path]) -> None:
    files["models"].write_text(CATALOGUE.replace(", price_in: 0.1, price_out: 0.4", ""))
    code, _, err = optimize(files, "--budget-unit", "dollars")
    assert code == 2 and "model 'small' has no price" in err and not files["store"].exists()


def test_analyze_measures_every_configuration_of_a_file_with_choices(tmp_path: Path) -> None:
    (tmp_path / "net.yaml").write_text("name: dj\nstages:\n  - {id: draft, op: sample, k: 2, model: {choose: [a, b]}}\n"
                                       "  - {id: pick, op: select, model: {choose: [a, b]}}\n")
    result = runner.invoke(app, ["analyze", str(tmp_path / "net.yaml"), "--sizes", "1,2,4", "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["example"] == "dj" and out["decompositions"] == ["c1", "c2", "c3", "c4"]
    assert "c2 draft=a, pick=b" in out["notes"] and "c3 draft=b, pick=a" in out["notes"]
    for row in out["rows"]:  # every configuration measured at every size: k samples and one judge call
        assert {name: m["calls"] for name, m in row["measured"].items()} == dict.fromkeys(out["decompositions"],
                                                                                           row["size"] + 1)
    (tmp_path / "big.yaml").write_text("stages:\n  - {id: draft, op: sample, model: {choose: [a, b, c]}}\n"
                                       "  - {id: pick, op: select, model: {choose: [a, b, c]}}\n")
    bad = runner.invoke(app, ["analyze", str(tmp_path / "big.yaml"), "--sizes", "1,2"])
    assert bad.exit_code == 2 and "big.yaml: its choices make 9 configurations; analyze compares at most 6" in bad.stderr
