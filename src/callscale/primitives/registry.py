"""The one ops table: the name a network file gives a primitive (``op: sample``) → its class, for
Python and network files alike. ``register_op`` adds a primitive of your own.

Example:
    >>> op_class("sample").__name__, "vote" in op_names()
    ('Sample', True)
"""

from __future__ import annotations

from callscale.primitives.adaptive_vote import AdaptiveVote
from callscale.primitives.base import Node
from callscale.primitives.filter_vote import Filter, FilterVote
from callscale.primitives.fuse import Fuse
from callscale.primitives.generate import Generate, Sample
from callscale.primitives.judge import Knockout, Select
from callscale.primitives.map_reduce import MapReduce
from callscale.primitives.route import Route
from callscale.primitives.verify import Verify
from callscale.primitives.vote import Vote

OPS: dict[str, type[Node]] = {
    "generate": Generate,
    "sample": Sample,
    "vote": Vote,
    "adaptive_vote": AdaptiveVote,
    "filter": Filter,
    "filter_vote": FilterVote,
    "select": Select,
    "knockout": Knockout,
    "fuse": Fuse,
    "verify": Verify,
    "route": Route,
    "map_reduce": MapReduce,
}


def register_op(name: str, cls: type[Node], *, replace: bool = False) -> None:
    """Make ``cls`` (a frozen dataclass :class:`~callscale.primitives.base.Node`) the op ``name``."""
    if not replace and name in OPS:
        raise ValueError(f"an op called {name!r} is registered already (pass replace=True to replace it)")
    OPS[name] = cls


def op_class(name: str) -> type[Node]:
    """The class of op ``name``; ``KeyError`` naming the known ops otherwise."""
    if name not in OPS:
        raise KeyError(f"unknown op {name!r}; choose one of {', '.join(OPS)}")
    return OPS[name]


def op_names() -> list[str]:
    """Every registered op."""
    return list(OPS)
