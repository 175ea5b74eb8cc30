"""The declared call structure of a network file at a size: what its nodes say they cost, no engine.

A size is either a node field (``k`` of a vote, ``fan_in`` of a MapReduce …: every node with that
field gets the value) or a run size (:data:`RUN_SIZES`: the item's document or prompt words).
:func:`check_structure` refuses a size the declaration does not depend on, and
:func:`network_symbolic` gives the symbolic cost, its Θ terms and its growth class in the size.

Example:
    >>> from callscale.networks import vote_network
    >>> net, sizes = network_sizes(vote_network("m", k=1), "k", 5, prompt_words=10)
    >>> declared_network_cost(net, sizes).calls
    5
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from callscale.asymptotic.symbolic import Growth


class StructureError(ValueError):
    """A network whose declared call structure cannot be analysed in the requested size."""


RUN_SIZES = ("document", "prompt")
"""Size keys a run can set: the item's document words (MapReduce) or its prompt words."""


def network_at(network: Any, vary: str, value: Any) -> Any:
    """``network`` with every node that has a field ``vary`` set to ``value`` (nodes that refuse keep theirs).

    Example:
        >>> from callscale.networks import vote_network
        >>> network_at(vote_network("m", k=3), "k", 7).nodes[0].k
        7
    """
    from callscale.networks import Network

    nodes = []
    for node in network.nodes:
        names = {f.name for f in dataclasses.fields(node)}
        if vary in names and vary not in ("id", "inputs", "model"):
            with contextlib.suppress(TypeError, ValueError):
                node = dataclasses.replace(node, **{vary: value})
        nodes.append(node)
    return Network(network.name, tuple(nodes), network.output)


def varied_fields(network: Any, vary: str) -> list[str]:
    """Ids of the nodes whose field ``vary`` a size sets."""
    return [n.id for n in network.nodes if vary in {f.name for f in dataclasses.fields(n)} and vary not in ("id", "inputs")]


def network_sizes(network: Any, vary: str, value: Any, prompt_words: Any, answer_tokens: Any = 1) -> tuple[Any, dict[str, Any]]:
    """The network and the size mapping for :meth:`Network.cost` at ``vary = value``."""
    sizes: dict[str, Any] = {"prompt": prompt_words, "answer": answer_tokens, "document": prompt_words}
    if varied_fields(network, vary):
        return network_at(network, vary, value), sizes
    sizes[vary] = value
    if vary == "prompt":
        sizes["document"] = value
    return network, sizes


def declared_network_cost(network: Any, sizes: Mapping[str, Any]) -> Any:
    """``network.cost(sizes)``, with a clear error for nodes that declare no structure."""
    try:
        return network.cost(sizes)
    except NotImplementedError:
        raise StructureError(f"network {network.name!r} has a node that does not declare its call structure") from None


def check_structure(network: Any, vary: str, values: Sequence[int]) -> None:
    """Raise :class:`StructureError` unless the declared calls, tokens or depth change with ``vary``."""
    if not varied_fields(network, vary) and vary not in RUN_SIZES:
        fields = sorted({f for n in network.nodes for f in _numeric_fields(n)})
        raise StructureError(f"network {network.name!r} has no size {vary!r}: vary a node field ({', '.join(fields)}) "
                             f"or one of {', '.join(RUN_SIZES)}")
    seen = set()
    for value in values:
        net, sizes = network_sizes(network, vary, value, 10)
        c = declared_network_cost(net, sizes)
        seen.add((c.calls, c.tokens, c.depth))
    if len(seen) < 2:
        raise StructureError(f"network {network.name!r} declares no call structure that depends on {vary!r}")


def _numeric_fields(node: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(node)
            if isinstance(getattr(node, f.name), int) and not isinstance(getattr(node, f.name), bool)]


def network_symbolic(network: Any, vary: str, metric: str) -> tuple[dict[str, Any], Growth | None]:
    """The symbolic side of a network analysis (needs sympy): every measure with ``vary``, the
    prompt and answer lengths symbolic, the Θ of ``metric`` and of the depth; and the growth class
    of ``metric`` in ``vary`` (None when ``vary`` does not appear in it).

    Example:
        >>> from callscale.networks import vote_network
        >>> summary, g = network_symbolic(vote_network("m", k=1), "k", "calls")
        >>> summary["decompositions"]["vote-k1"]["cost"]["calls"], g.label("k")
        ('k', 'k')
    """
    from callscale.asymptotic.symbolic import growth, size_symbol, symbolic_cost

    k = size_symbol(vary)
    net, sym_sizes = network_sizes(network, vary, k, size_symbol("prompt"), size_symbol("answer"))
    if vary in RUN_SIZES:
        sym_sizes[vary] = k
    cost = symbolic_cost(declared_network_cost(net, sym_sizes))
    growth_cls = growth(cost[metric], k) if k in getattr(cost[metric], "free_symbols", set()) else None
    th = cost.theta(metric)
    summary = {"metric": metric, "vary": vary, "decompositions": {network.name: {
        "cost": cost.to_dict(), "theta": str(th), "growth": {v: g.label(v) for v, g in th.growth.items()},
        "theta_depth": str(cost.theta("depth"))}}}
    return summary, growth_cls


__all__ = [
    "RUN_SIZES",
    "StructureError",
    "check_structure",
    "declared_network_cost",
    "network_at",
    "network_sizes",
    "network_symbolic",
    "varied_fields",
]
