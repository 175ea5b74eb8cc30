"""The vote-scaling study on the embedded model: which pools, drawn how.

Three parts, chosen where the real signal is (see the scaling report): free-form arithmetic from
the shipped items, graded-difficulty arithmetic generated with a controlled easy/hard mix, and
multiple choice with the option order permuted per sample (turning letter bias into noise), plus
the one-call logprobs route for the multiple-choice part. ``FULL`` is the committed study;
``SMALL`` is the same design on a slice that runs live in a few minutes. :func:`study_parts` gives
either with another model or fewer items.

Example:
    >>> [p.name for p in FULL]
    ['arithmetic', 'graded_arithmetic', 'arc_easy_permuted']
    >>> SMALL[0].spec.samples <= FULL[0].spec.samples
    True
    >>> [(p.spec.model, p.limit) for p in study_parts("small", model="foo", limit=3)]
    [('foo', 3), ('foo', 3)]
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from callscale.backends.local import DEFAULT_MODEL
from callscale.pools import PoolSpec
from callscale.tasks import get_task
from callscale.tasks.items import Task

__all__ = ["FULL", "SMALL", "STUDIES", "StudyPart", "study_parts"]


@dataclass(frozen=True)
class StudyPart:
    """One task of the study and how its pools are drawn: ``items`` items of ``task`` (a reproducible
    subset when ``subset_seed`` is set), of which only the first ``limit`` are used when it is set."""

    name: str
    task: str
    items: int
    spec: PoolSpec
    subset_seed: int | None = None
    logprobs: bool = False
    limit: int | None = None

    def load(self) -> Task:
        """The part's items (a reproducible subset of the named task, cut to ``limit``).

        >>> len(replace(SMALL[0], limit=5).load())
        5
        """
        task = get_task(self.task).subset(self.items, seed=self.subset_seed)
        return task if self.limit is None else task.subset(self.limit)

    def configured(self, *, model: str | None = None, limit: int | None = None) -> StudyPart:
        """This part drawn from ``model`` (part of the pool's identity) and cut to its first ``limit`` items;
        ``None`` keeps what the part says.

        >>> part = FULL[0].configured(model="m", limit=10)
        >>> part.spec.model, part.limit, part.spec.samples == FULL[0].spec.samples
        ('m', 10, True)
        """
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        spec = self.spec if model is None else replace(self.spec, model=model)
        return replace(self, spec=spec, limit=self.limit if limit is None else limit)


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

STUDIES: dict[str, tuple[StudyPart, ...]] = {"small": SMALL, "full": FULL}
"""The built-in studies by name."""


def study_parts(name: str, *, model: str | None = None, limit: int | None = None) -> tuple[StudyPart, ...]:
    """The parts of the study ``name`` ('small' or 'full'), each drawn from ``model`` and cut to its first
    ``limit`` items when given (:meth:`StudyPart.configured`).

    >>> study_parts("medium")
    Traceback (most recent call last):
    ...
    ValueError: unknown study 'medium'; choose 'small' or 'full'
    """
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; choose {' or '.join(repr(n) for n in STUDIES)}")
    return tuple(part.configured(model=model, limit=limit) for part in STUDIES[name])
