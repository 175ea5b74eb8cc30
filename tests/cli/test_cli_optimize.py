from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app
from callscale.search.archive import Trial
from callscale.search.base import Option, Proposal, Searcher
from callscale.search.budget import Number
from callscale.search.searchers import register_searcher, unregister_searcher
from callscale.search.space import Space

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
        (["--searcher", "tpe", "--searcher-option", "n_startup=3"],
         "takes no option 'n_startup' (it takes: seed, n_startup_trials, max_retries, multivariate)"),
        (["--searcher", "tpe", "--searcher-option", "multivariate=maybe"], "option 'multivariate': cannot read 'maybe'"),
        (["--searcher", "agent", "--searcher-option", "llm=gpt"], "set from Python only"),
        (["--searcher", "random", "--searcher-option", "seed"], "expected KEY=VALUE"),
    ],
)
def test_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = optimize(*args, "--store", str(tmp_path / "s.sqlite"))
    assert code == 2 and message in err


def test_an_unusable_store_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_text("junk " * 100)
    code, _, err = optimize("--task", "agentts", "--trials", "1", "--store", str(bad))
    assert code == 2 and "bad.sqlite: not a usable callscale search archive" in err


@pytest.mark.real_model
def test_agent_searcher_with_the_local_model(tmp_path: Path) -> None:
    code, out, err = optimize("--task", "agentts", "--searcher", "agent", "--agent-backend", "local", "--trials", "2",
                              "--agent-max-tokens", "96", "--store", str(tmp_path / "s.sqlite"))
    assert code == 0, err
    stats = out["searcher_stats"]
    assert out["trials"] == 2 and stats["calls"] >= 1
    # Whatever the small model wrote, every trial ran a valid in-budget configuration.
    assert stats["valid"] + stats["repaired"] + stats["fallbacks"] >= 2


# The numbers every searcher gave on the simulated benchmark before the searchers moved behind the
# registry (budget 900, 20 trials, seed 0): best configuration, its score and cost, the trial that
# found it, trials to the optimum, final regret.
BEFORE = {
    "random": ([["32B", 15], ["14B", 41]], 0.5681309699722172, 867.3333333333334, 17, None, 0.22901431616736279),
    "grid": ([["32B", 1], ["14B", 50]], 0.48834852298928905, 610.6666666666666, 10, None, 0.308796763150291),
    "tpe": ([["32B", 7], ["7B", 12]], 0.7186658450655716, 524.0, 8, None, 0.0784794410740084),
    "model": ([["72B", 2], ["3B", 8]], 0.79714528613958, 872.0, 6, 6, 0.0),
    "agent": ([["72B", 2], ["3B", 8]], 0.79714528613958, 872.0, 11, 11, 0.0),
}


@pytest.mark.parametrize("searcher", list(BEFORE))
def test_every_searcher_gives_the_same_numbers(tmp_path: Path, searcher: str) -> None:
    args = ["--agent-backend", "rules"] if searcher == "agent" else []
    code, out, err = optimize("--task", "agentts", "--budget", "900", "--searcher", searcher, "--trials", "20", *args,
                              "--store", str(tmp_path / "s.sqlite"))
    assert code == 0, err
    best = out["best"]
    config, score, cost, trial, to_optimum, regret = BEFORE[searcher]
    assert [[c["model"], c["samples"]] for c in best["config"].values()] == config
    assert (best["trial"], out["trials_to_optimum"]) == (trial, to_optimum)
    assert (best["train_score"], best["cost"], out["final_regret"]) == pytest.approx((score, cost, regret), rel=1e-12)
    if searcher == "tpe":
        assert out["searcher_stats"] == {"suggested": 30, "infeasible": 10, "duplicates": 0, "fallbacks": 0}


class Cheapest(Searcher):
    """A searcher defined here: the cheapest untried configurations, every ``step``-th in cost order."""

    name = "cheapest"
    options = (*Searcher.options, Option("step", 1, "take every step-th configuration", int))

    def __init__(self, space: Space, budget: Number, *, seed: int = 0, step: int = 1) -> None:
        super().__init__(space, budget, seed=seed)
        self.step = step

    def propose(self, history: Sequence[Trial], n: int = 1) -> list[Proposal]:
        seen = {t.config.key for t in history}
        ranked = sorted(self.space.enumerate(self.budget), key=lambda c: (self.space.cost(c), c.key))[:: self.step]
        return [Proposal(c, "cheapest") for c in ranked if c.key not in seen][:n]


@pytest.fixture
def cheapest() -> Iterator[None]:
    register_searcher("cheapest", Cheapest)
    yield
    unregister_searcher("cheapest")


def test_a_searcher_registered_in_python_runs_through_the_cli(tmp_path: Path, cheapest: None) -> None:
    store = str(tmp_path / "s.sqlite")
    code, out, err = optimize("--task", "agentts", "--budget", "500", "--searcher", "cheapest", "--trials", "3",
                              "--searcher-option", "step=2", "--store", store)
    assert code == 0, err
    assert out["searcher"] == "cheapest" and out["trials"] == 3 and out["best"]["cost"] <= 500
    code, again, _ = optimize("--task", "agentts", "--budget", "500", "--searcher", "cheapest", "--trials", "5",
                              "--searcher-option", "step=2", "--store", store)  # resumes from the archive
    assert code == 0 and again["trials"] == 5 and again["best"]["trial"] >= out["best"]["trial"]
    code, _, err = optimize("--searcher", "cheapest", "--searcher-option", "stride=2", "--store", store)
    assert code == 2 and "Options of cheapest: seed=0: random seed" in err and "step=1: take every step-th" in err


def test_searcher_options_reach_the_searcher(tmp_path: Path) -> None:
    code, out, err = optimize("--task", "agentts", "--budget", "900", "--searcher", "tpe", "--trials", "4",
                              "--searcher-option", "n_startup_trials=2", "--searcher-option", "multivariate=false",
                              "--store", str(tmp_path / "s.sqlite"))
    assert code == 0, err
    assert out["trials"] == 4 and out["searcher_stats"]["suggested"] >= 4
