"""LLM primitives, one small module each; each declares its call structure.

Example:
    >>> from callscale.primitives import Sample, Vote
    >>> [type(n).__name__ for n in (Sample("gen", "m", k=3), Vote("vote", inputs=("gen",)))]
    ['Sample', 'Vote']
"""

from callscale.primitives.adaptive_vote import AdaptiveVote
from callscale.primitives.base import Candidate, Candidates, Decision, ItemContext, Node, Shape, Value
from callscale.primitives.filter_vote import Filter, FilterVote
from callscale.primitives.fuse import Fuse
from callscale.primitives.generate import Generate, Sample
from callscale.primitives.judge import Knockout, Select
from callscale.primitives.map_reduce import MapReduce
from callscale.primitives.route import Route, Specialist
from callscale.primitives.verify import Verify
from callscale.primitives.vote import Vote, decide

__all__ = [
    "AdaptiveVote",
    "Candidate",
    "Candidates",
    "Decision",
    "Filter",
    "FilterVote",
    "Fuse",
    "Generate",
    "ItemContext",
    "Knockout",
    "MapReduce",
    "Node",
    "Route",
    "Sample",
    "Select",
    "Shape",
    "Specialist",
    "Value",
    "Verify",
    "Vote",
    "decide",
]
