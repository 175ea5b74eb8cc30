"""Imports flow one way: no cycle between modules or packages, and analysis never imports the
machinery that calls models (DESIGN.md: analysis takes data, never the engine)."""

from __future__ import annotations

from imports_graph import Edge, cycles, edges, package_of

# analysis packages → what they must never import (directly, or lazily inside a function)
FORBIDDEN = {
    "scaling": {"engine", "backends", "store", "cli", "networks", "pools", "report"},
    "report": {"engine", "backends", "store", "cli"},
    "costs": {"engine", "backends", "store", "cli", "ledger", "records"},
}


def _graph(*, packages: bool, include_lazy: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for e in edges():
        if e.source == "callscale" or (e.lazy and not include_lazy):
            continue  # the public face imports everything, lazily
        a, b = (package_of(e.source), package_of(e.target)) if packages else (e.source, e.target)
        if a != b and a and b:
            graph.setdefault(a, set()).add(b)
    return graph


def test_the_graph_is_read() -> None:
    found = edges()
    assert any(e.source == "callscale.engine" and e.target == "callscale.store" for e in found)
    assert any(e.lazy for e in found)  # the CLI imports its heavy parts inside functions


def test_no_package_cycle() -> None:
    assert cycles(_graph(packages=True, include_lazy=True)) == []


def test_no_module_cycle() -> None:
    assert cycles(_graph(packages=False, include_lazy=False)) == []


def test_analysis_does_not_import_the_calling_machinery() -> None:
    bad: list[Edge] = [e for e in edges() if package_of(e.target) in FORBIDDEN.get(package_of(e.source), set())]
    assert bad == []


def test_cycles_are_found_when_there_are_some() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
