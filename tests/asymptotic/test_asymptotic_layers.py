"""The package's shape: analysis on data imports no engine, the same numbers as before the
restructure, the example registry, the public names, and rendering from ``to_dict()`` only."""

from __future__ import annotations

import ast
import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import callscale
import callscale.asymptotic
from callscale.asymptotic.examples import (
    NAMES,
    UnknownExampleError,
    analyze_example,
    example_names,
    get_example,
    register_example,
    unregister_example,
)
from callscale.report.asymptotic import in_variable, plot_analysis, render_terminal

SRC = Path(callscale.__file__).parent
DATA = Path(__file__).parent / "data"
CALLING = ("callscale.engine", "callscale.backends", "callscale.store", "callscale.executors")


# -- imports ---------------------------------------------------------------------------------------
def _file(module: str) -> Path | None:
    base = SRC.parent / module.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    return {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for stmt in block.body for n in ast.walk(stmt)}


def _imports(module: str) -> set[str]:
    """Every callscale module ``module`` imports at run time (at the top or inside a function; not for type checking)."""
    path = _file(module)
    assert path is not None, module
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names if _file(f"{base}.{a.name}") is not None)
    return {m for m in out if m.startswith("callscale")}


def _closure(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen or _file(current) is None:
            continue
        seen.add(current)
        todo.extend(_imports(current))
    return seen


def _calling(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.startswith(CALLING))


def test_empirical_imports_nothing_that_calls_models() -> None:
    found = _closure("callscale.asymptotic.empirical")
    assert "callscale.asymptotic.symbolic" in found and "callscale.costs" in found  # the walk does follow imports
    assert _calling(found) == []
    assert not any(m.startswith(("callscale.ledger", "callscale.networks", "callscale.cli", "callscale.report")) for m in found)


def test_the_walk_finds_the_engine_where_it_is() -> None:
    assert "callscale.engine" in _closure("callscale.asymptotic.measurement")


def test_report_renders_without_the_calling_machinery_or_the_cli() -> None:
    found = _closure("callscale.report.asymptotic")
    assert _calling(found) == [] and not any(m.startswith("callscale.cli") for m in found)


def test_importing_empirical_loads_no_engine_at_run_time() -> None:
    code = ("import sys, callscale.asymptotic.empirical\n"
            f"print(sorted(m for m in sys.modules if m.startswith({CALLING!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_name_resolves() -> None:
    missing = [name for name in callscale.asymptotic.__all__ if getattr(callscale.asymptotic, name, None) is None]
    assert missing == []
    from callscale.asymptotic import PassLedger, analyze_network, call_passes, measure

    assert callable(measure) and callable(analyze_network) and call_passes(10, 3) == 33
    assert PassLedger.__module__ == "callscale.asymptotic.measurement"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = callscale.asymptotic.nope  # type: ignore[attr-defined]


# -- the same numbers as before --------------------------------------------------------------------
CASES: dict[str, dict[str, Any]] = {
    "routing": {"sizes": [2, 4, 8, 16, 32], "symbolic": True},
    "debugging": {"sizes": [4, 8, 16], "vary": "b", "fixed": {"k": 4}, "symbolic": False},
    "evolution": {"sizes": [2, 4, 6], "symbolic": False},
    "summarising": {"sizes": [256, 1024, 4096], "symbolic": False},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gains_equal_those_captured_before_the_restructure(name: str) -> None:
    """``data/gains_before.json`` was written by the code before the package was split (same calls)."""
    want = json.loads((DATA / "gains_before.json").read_text(encoding="utf-8"))[name]
    kwargs = dict(CASES[name])
    summary = asyncio.run(analyze_example(get_example(name), kwargs.pop("sizes"), **kwargs)).to_dict()
    gain = summary["checks"]["gain"]
    assert [r["size"] for r in summary["rows"]] == want["sizes"]
    assert gain["measured"] == pytest.approx(want["measured"], rel=1e-12)
    assert gain["declared"] == pytest.approx(want["declared"], rel=1e-12)
    assert gain["slope"]["slope"] == pytest.approx(want["slope"], rel=1e-9)
    assert gain["slope"]["ci"] == pytest.approx(want["ci"], rel=1e-9)
    assert (gain["best_class"], gain["declared_growth"], summary["exact"]) == (
        want["best_class"], want["declared_growth"], want["exact"])
    if "symbolic_gain" in want:
        assert summary["symbolic"]["gain"] == want["symbolic_gain"]


# -- the registry ----------------------------------------------------------------------------------
def test_the_registry_holds_the_shipped_examples_and_takes_more() -> None:
    assert example_names()[: len(NAMES)] == NAMES
    assert [get_example(n).name for n in NAMES] == list(NAMES)
    routing = get_example("routing")
    register_example("mine", routing)
    try:
        assert get_example("mine") is routing and "mine" in example_names()
        with pytest.raises(ValueError, match="registered already"):
            register_example("mine", routing)
        register_example("mine", "callscale.asymptotic.examples.debugging:EXAMPLE", replace=True)
        assert get_example("mine").name == "debugging"
    finally:
        unregister_example("mine")
    with pytest.raises(UnknownExampleError, match="unknown example 'mine'; choose one of routing, debugging"):
        get_example("mine")


# -- rendering -------------------------------------------------------------------------------------
def test_rendering_reads_only_the_serialized_record(tmp_path: Path) -> None:
    analysis = asyncio.run(analyze_example(get_example("evolution"), [2, 3, 4], symbolic=True))
    summary = json.loads(json.dumps(analysis.to_dict(), default=str))  # what --json prints, read back
    assert plot_analysis(summary, tmp_path / "a.png").read_bytes() == plot_analysis(analysis, tmp_path / "b.png").read_bytes()
    console = Console(file=io.StringIO(), record=True, width=200)
    render_terminal(summary, console)
    text = console.export_text()
    for line in ("evolution: OneMax-like evolution", "growth fits (95 % intervals)", "log2-linear",
                 "declared counts equal the ledger's at every size: yes"):
        assert line in text
    assert in_variable("n log n", "k") == "k log k" and in_variable("n^-1·3^n", "size") == "size^-1·3^size"
