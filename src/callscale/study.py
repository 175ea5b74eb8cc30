"""The vote-scaling study on the embedded model: which pools, drawn how.

Three parts, chosen where the real signal is (see the scaling report): free-form arithmetic from
the shipped items, graded-difficulty arithmetic generated with a controlled easy/hard mix, and
multiple choice with the option order permuted per sample (turning letter bias into noise), plus
the one-call logprobs route for the multiple-choice part. ``FULL`` is the committed study;
``SMALL`` is the same design on a slice that runs live in a few minutes.

Example:
    >>> [p.name for p in FULL]
    ['arithmetic', 'graded_arithmetic', 'arc_easy_permuted']
    >>> SMALL[0].spec.samples <= FULL[0].spec.samples
    True
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from callscale.backends.local import DEFAULT_MODEL
from callscale.pools import PoolSpec
from callscale.tasks import get_task
from callscale.tasks.items import Task


@dataclass(frozen=True)
class StudyPart:
    """One task of the study and how its pools are drawn."""

    name: str
    task: str
    items: int
    spec: PoolSpec
    subset_seed: int | None = None
    logprobs: bool = False

    def load(self) -> Task:
        """The part's items (a reproducible subset of the named task)."""
        return get_task(self.task).subset(self.items, seed=self.subset_seed)


FULL: tuple[StudyPart, ...] = (
    StudyPart("arithmetic", "arithmetic", 300, PoolSpec(DEFAULT_MODEL, 32, temperature=0.8, max_tokens=16)),
    StudyPart("graded_arithmetic", "generated_arithmetic", 300,
              PoolSpec(DEFAULT_MODEL, 32, temperature=0.8, max_tokens=16), subset_seed=0),
    StudyPart("arc_easy_permuted", "arc_easy", 300,
              PoolSpec(DEFAULT_MODEL, 16, temperature=1.0, max_tokens=8, permute=True), logprobs=True),
)

SMALL: tuple[StudyPart, ...] = tuple(
    replace(part, items=24, spec=replace(part.spec, samples=12)) for part in FULL[:2]
)
