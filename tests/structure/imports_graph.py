"""The import graph of ``src/callscale``, read from the source with ``ast`` (nothing is imported)."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).parents[2] / "src" / "callscale"


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` (dotted module names); ``lazy`` when inside a function."""

    source: str
    target: str
    lazy: bool
    line: int


def module_name(path: Path) -> str:
    parts = ["callscale", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(source: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


@functools.cache
def edges() -> tuple[Edge, ...]:
    """Every import of a ``callscale`` module by a ``callscale`` module."""
    out: list[Edge] = []
    for path in sorted(SRC.rglob("*.py")):
        source = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                     for n in ast.walk(f) if isinstance(n, ast.Import | ast.ImportFrom)}
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(source, node, path.name == "__init__.py")
                targets = [base]
                targets += [f"{base}.{a.name}" for a in node.names if (SRC.parent / f"{base}.{a.name}".replace(".", "/")).exists()
                            or (SRC.parent / (f"{base}.{a.name}".replace(".", "/") + ".py")).exists()]
            for target in targets:
                if target.startswith("callscale") and target != source:
                    out.append(Edge(source, target, id(node) in functions, node.lineno))
    return tuple(out)


def package_of(module: str) -> str:
    """The first-level part of callscale a module belongs to (``callscale.scaling.fit`` → ``scaling``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found
