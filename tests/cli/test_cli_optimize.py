from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app

runner = CliRunner()


def optimize(*args: str) -> tuple[int, dict, str]:
    result = runner.invoke(app, ["optimize", *args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else {}, result.stderr


def test_model_based_search_finds_the_simulated_optimum_and_resumes(tmp_path: Path) -> None:
    store = str(tmp_path / "s.sqlite")
    code, out, _ = optimize("--task", "agentts", "--searcher", "model", "--budget", "900", "--trials", "5",
                            "--store", store, "--report", str(tmp_path / "r"))
    assert code == 0 and out["trials"] == 5 and (tmp_path / "r" / "regret.png").stat().st_size > 0
    code, more, _ = optimize("--task", "agentts", "--searcher", "model", "--budget", "900", "--trials", "10",
                             "--store", store)
    assert more["trials"] == 10 and more["trials_to_optimum"] is not None and more["final_regret"] == 0.0


def test_live_search_on_the_simulated_backend(tmp_path: Path) -> None:
    code, out, _ = optimize("--task", "arithmetic", "--backend", "simulated", "--searcher", "grid", "--trials", "4",
                            "--train", "20", "--test", "20", "--samples", "1,2,4", "--store", str(tmp_path / "s.sqlite"))
    assert code == 0 and out["best"] is not None and out["test_score"] is not None
    assert out["calls"]["made now"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--searcher", "annealing"], "unknown searcher 'annealing'"),
        (["--budget", "1"], "no configuration fits budget 1"),
        (["--task", "arc_easy", "--backend", "simulated"], "multiple choice"),
        (["--task", "nope", "--backend", "simulated"], "unknown task 'nope'"),
        (["--agent-backend", "magic"], "unknown --agent-backend"),
    ],
)
def test_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = optimize(*args, "--store", str(tmp_path / "s.sqlite"))
    assert code == 2 and message in err


@pytest.mark.real_model
def test_agent_searcher_with_the_local_model(tmp_path: Path) -> None:
    code, out, err = optimize("--task", "agentts", "--searcher", "agent", "--agent-backend", "local", "--trials", "2",
                              "--agent-max-tokens", "96", "--store", str(tmp_path / "s.sqlite"))
    assert code == 0, err
    stats = out["searcher_stats"]
    assert out["trials"] == 2 and stats["calls"] >= 1
    # Whatever the small model wrote, every trial ran a valid in-budget configuration.
    assert stats["valid"] + stats["repaired"] + stats["fallbacks"] >= 2
