"""The searcher registry: built-ins by name, declared options, registering and replacing searchers,
and the layering of the package (analysis never imports the engine; budget does not import space)."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import callscale.search
from callscale.search.archive import Trial
from callscale.search.base import REQUIRED, Option, Proposal, Searcher, parse_bool, run_search
from callscale.search.budget import Number
from callscale.search.environments.simulated import AgentTTSBenchmark, agentts_space
from callscale.search.searchers import (
    BUILTIN_SEARCHERS,
    get_searcher,
    register_searcher,
    searcher_entry,
    searcher_names,
    searcher_options,
    unregister_searcher,
)
from callscale.search.searchers.agent_rules import heuristic_llm
from callscale.search.space import Space

SEARCH = Path(callscale.search.__file__).parent


class Cheapest(Searcher):
    """The cheapest untried configurations first, ``step`` apart in the cost order."""

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
    register_searcher("cheapest", Cheapest, aliases=["cheap"])
    yield
    unregister_searcher("cheapest")


def test_builtins_by_name_and_alias() -> None:
    assert searcher_names()[:5] == ["random", "grid", "tpe", "model_based", "agent"]
    assert searcher_entry("model") is searcher_entry("model_based")
    space = agentts_space()
    for name in BUILTIN_SEARCHERS:
        options: dict[str, object] = {"llm": heuristic_llm} if name == "agent" else {}
        searcher = get_searcher(name, space, 900, **options)
        assert searcher.name == name and searcher.space is space
    with pytest.raises(KeyError, match="unknown searcher 'annealing'; choose one of random, grid"):
        get_searcher("annealing", space, 900)


def test_options_are_checked_before_building() -> None:
    space = agentts_space()
    with pytest.raises(ValueError, match=r"takes no option 'temperature' \(it takes: seed\)"):
        get_searcher("random", space, 900, temperature=2)
    with pytest.raises(ValueError, match="needs option 'llm'"):
        get_searcher("agent", space, 900)
    assert get_searcher("tpe", space, 900, n_startup_trials=3).n_startup_trials == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list(BUILTIN_SEARCHERS))
def test_declared_options_match_the_constructor(name: str) -> None:
    """What the registry (and the command line) reads is what the constructor accepts, defaults included."""
    entry = searcher_entry(name)
    params = inspect.signature(entry.factory).parameters
    accepted = {p for p in params if p not in ("self", "space", "budget")}
    assert {o.name for o in entry.options} == accepted
    for opt in entry.options:
        default = params[opt.name].default
        assert opt.default == (REQUIRED if default is inspect.Parameter.empty else default), opt.name
        if opt.settable and not opt.required and opt.default is not None:
            assert opt.from_text(_text(opt.default)) == opt.default, opt.name


def _text(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def test_a_registered_searcher_runs_and_takes_its_options(cheapest: None) -> None:
    bench = AgentTTSBenchmark()
    assert "cheapest" in searcher_names() and [o.name for o in searcher_options("cheap")] == ["seed", "step"]
    result = run_search(bench, get_searcher("cheap", bench.space, 500, step=2), n_trials=3)
    ranked = sorted(bench.space.enumerate(500), key=lambda c: (bench.space.cost(c), c.key))
    assert [t.config for t in result.trials] == ranked[0:6:2]


def test_names_are_not_taken_twice(cheapest: None) -> None:
    for name in ("cheapest", "cheap", "random", "model"):
        with pytest.raises(ValueError, match="registered already"):
            register_searcher(name, Cheapest)
    with pytest.raises(ValueError, match="letters, digits"):
        register_searcher("no spaces", Cheapest)
    register_searcher("random", Cheapest, replace=True)
    try:
        assert searcher_entry("random").factory is Cheapest
    finally:
        unregister_searcher("random")
    assert searcher_entry("random").factory.__name__ == "RandomSearcher"


def test_a_factory_given_by_path_loads_when_first_used() -> None:
    register_searcher("lazy-grid", "callscale.search.searchers.grid:GridSearcher",
                      options=[Option("seed", None, "shuffle", int)])
    register_searcher("missing", "callscale.search.searchers.nowhere:Nothing")
    try:
        assert get_searcher("lazy-grid", agentts_space(), 500).name == "grid"
        with pytest.raises(ImportError, match="searcher 'missing' cannot be loaded"):
            get_searcher("missing", agentts_space(), 500)
    finally:
        unregister_searcher("lazy-grid")
        unregister_searcher("missing")


def test_option_text() -> None:
    opt = Option("multivariate", True, "joint", parse_bool)
    assert opt.from_text("off") is False and opt.describe() == "multivariate=True: joint"
    with pytest.raises(ValueError, match="option 'multivariate': cannot read 'maybe'"):
        opt.from_text("maybe")
    with pytest.raises(ValueError, match="set from Python only"):
        Option("llm").from_text("gpt")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_budget_does_not_import_space() -> None:
    assert not {m for m in _imports(SEARCH / "budget.py") if m.startswith("callscale.search")}


def test_analysis_modules_never_import_the_engine() -> None:
    code = (
        "import sys\n"
        "import callscale.search.base, callscale.search.space, callscale.search.budget, callscale.search.archive\n"
        "import callscale.search.searchers, callscale.search.environments.simulated\n"
        "from callscale.search import get_searcher, AgentTTSBenchmark\n"
        "bench = AgentTTSBenchmark()\n"
        "for name in ('random', 'grid', 'tpe', 'model_based'):\n"
        "    get_searcher(name, bench.space, 900)\n"
        "print(sorted(m for m in sys.modules if m in ('callscale.engine', 'callscale.store', 'callscale.backends')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    for path in [*SEARCH.glob("*.py"), *SEARCH.glob("searchers/*.py"), SEARCH / "environments" / "base.py",
                 SEARCH / "environments" / "simulated.py"]:
        assert "callscale.engine" not in _imports(path), path
