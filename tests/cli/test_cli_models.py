"""Many models in one run: network nodes name catalogue models, one engine routes each node to its
model's backend, and the ledger prices every line with the catalogue (sizes, dollars)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.backends.base import ConfigurationError
from callscale.backends.local import GEMMA_INSTALL, gemma_weights
from callscale.cli import app

CATALOGUE = """
models:
  cheap: {backend: simulated, params: 1000, price_in: 0.5, price_out: 1.5}
  strong: {backend: simulated, params: 70000, price_in: 5, price_out: 15}
"""
NETWORK = """
name: cheap-drafts-strong-fuses
stages:
  - {id: draft, op: sample, k: 3, model: cheap}
  - {id: fuse, op: fuse, model: strong}
"""


def _run(tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    (tmp_path / "models.yaml").write_text(CATALOGUE)
    (tmp_path / "net.yaml").write_text(NETWORK)
    result = CliRunner().invoke(app, ["run", "--task", "arithmetic", "--limit", "5", "--network", str(tmp_path / "net.yaml"),
                                      "--models", str(tmp_path / "models.yaml"), "--backend", "simulated",
                                      "--store", str(tmp_path / "s.sqlite"), *extra])
    return result.exit_code, result.stdout, result.stderr


def test_two_catalogue_models_in_one_network_are_priced_per_line(tmp_path: Path) -> None:
    code, out, err = _run(tmp_path, "--json")
    assert code == 0, err
    summary = json.loads(out)
    lines = {line["model"]: line["system"] for line in summary["ledger"]["lines"]}
    assert set(lines) == {"cheap", "strong"} and lines["cheap"]["calls"] == 15 and lines["strong"]["calls"] == 5
    for model, params, p_in, p_out in (("cheap", 1000, 0.5, 1.5), ("strong", 70000, 5, 15)):
        line = lines[model]
        tokens = line["prompt_tokens"] + line["completion_tokens"]
        assert line["primitive_cost"] == params * tokens and line["flops"] == 2.0 * params * tokens
        assert line["dollars"] == pytest.approx((line["prompt_tokens"] * p_in + line["completion_tokens"] * p_out) / 1e6)
    code, out, _ = _run(tmp_path, "--json")
    assert code == 0 and json.loads(out)["calls_made"] == 0


def test_an_unknown_model_in_a_network_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "models.yaml").write_text(CATALOGUE)
    (tmp_path / "net.yaml").write_text(NETWORK.replace("model: strong", "model: stronger"))
    result = CliRunner().invoke(app, ["run", "--task", "arithmetic", "--limit", "5", "--network", str(tmp_path / "net.yaml"),
                                      "--models", str(tmp_path / "models.yaml"), "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "unknown model 'stronger'" in result.stderr and not (tmp_path / "s.sqlite").exists()


def test_a_catalogue_entry_without_a_base_url_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "models.yaml").write_text("models:\n  remote:\n    backend: openai\n")
    (tmp_path / "net.yaml").write_text(NETWORK)
    result = CliRunner().invoke(app, ["run", "--task", "arithmetic", "--network", str(tmp_path / "net.yaml"),
                                      "--models", str(tmp_path / "models.yaml"), "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert f"{tmp_path / 'models.yaml'}:2" in result.stderr and "base_url" in result.stderr
    assert not (tmp_path / "s.sqlite").exists()


def _gemma_installed() -> bool:
    try:
        gemma_weights(assemble=False)
    except ConfigurationError:
        return False
    return True


@pytest.mark.real_model
@pytest.mark.skipif(not _gemma_installed(), reason=f"Gemma 3 270M is not installed; run: {GEMMA_INSTALL}")
def test_two_real_local_models_in_one_network(tmp_path: Path) -> None:
    """SmolLM2 drafts, Gemma fuses: each on its own local server, both in the ledger; a rerun pays nothing."""
    (tmp_path / "net.yaml").write_text("name: two\nstages:\n  - {id: draft, op: sample, k: 2, model: smollm2-135m-instruct}\n"
                                       "  - {id: fuse, op: fuse, model: gemma3-270m, max_tokens: 16}\n")
    args = ["run", "--task", "arithmetic", "--limit", "2", "--network", str(tmp_path / "net.yaml"),
            "--store", str(tmp_path / "s.sqlite"), "--json"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.stderr
    lines = {line["model"]: line["system"] for line in json.loads(first.stdout)["ledger"]["lines"]}
    assert lines["smollm2-135m-instruct"]["calls"] == 4 and lines["gemma3-270m"]["calls"] == 2
    assert all(line["primitive_cost"] > 0 and line["flops"] > 0 for line in lines.values())
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0 and json.loads(second.stdout)["calls_made"] == 0


def test_optimize_chooses_per_stage_among_catalogue_models(tmp_path: Path) -> None:
    (tmp_path / "models.yaml").write_text("models:\n  small: {backend: simulated, params: 100}\n"
                                          "  big: {backend: simulated, params: 1700}\n")
    result = CliRunner().invoke(app, ["optimize", "--task", "arithmetic", "--models", str(tmp_path / "models.yaml"),
                                      "--candidates", "small,big", "--train", "8", "--test", "6", "--trials", "5",
                                      "--samples", "1,2", "--searcher", "grid", "--budget", "1e12",
                                      "--store", str(tmp_path / "s.sqlite"), "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["configurations_within_budget"] == (2 * 2) ** 2  # (model, samples) per stage, two stages
    assert {stage["model"] for stage in summary["best"]["config"].values()} <= {"small", "big"}
    assert summary["test_score"] is not None


@pytest.mark.real_model
@pytest.mark.skipif(not _gemma_installed(), reason=f"Gemma 3 270M is not installed; run: {GEMMA_INSTALL}")
def test_optimize_chooses_each_specialists_model_between_two_real_models(tmp_path: Path) -> None:
    """The shipped specialists network: the physics and arithmetic specialists each choose SmolLM2 or
    Gemma; every configuration is tried on real calls, priced in FLOPs with the models' true sizes."""
    network = Path(__file__).parents[2] / "studies" / "specialists" / "specialists.yaml"
    args = ["optimize", "--network", str(network), "--task", "mixed_domains", "--searcher", "grid", "--trials", "4",
            "--train", "4", "--test", "2", "--budget-unit", "flops", "--budget", "1e15",
            "--store", str(tmp_path / "s.sqlite"), "--json", "--quiet"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["trials"] == out["configurations_within_budget"] == 4 and out["test_score"] is not None
    assert set(out["best"]["config"]) == {"route.physics", "route.arithmetic"}
    assert out["best"]["measured_cost_per_item"] > 0 and out["best"]["declared_cost_per_item"] > 0
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and json.loads(again.stdout)["calls"]["made now"] == 0
