"""The simulated world: the papers' probabilistic model behind every primitive's requests.

It answers from the facts a request carries (:mod:`callscale.primitives.facts`), never from its
prompt text, so prompts can be reworded and one world serves the items of several tasks. Each
item has an answer distribution over canonical answers; a generation request gets it rendered as
the model would write it (the displayed letter for permuted options, the number for free-form).
Judges are noisy in the standard way: a verifier says "yes" to a correct answer with probability
``tpr`` and to a wrong one with ``fpr``; a selector names the correct candidate with probability
``select_skill`` (when one is listed), else a uniformly random one; a fuser returns the plurality
of what it reads; a delegator picks the item's ``metadata["domain"]`` with ``route_skill`` (uniformly
when that domain is not among the specialists). A request without facts, or with facts of an
unknown task, item or step, is refused with a :class:`~callscale.backends.base.BackendError`.

Example:
    >>> from callscale.primitives.facts import task_request
    >>> from callscale.tasks.items import Item, Task
    >>> task = Task("t", (Item(id="a", question="2+2?", answer="4"),), "{question}")
    >>> world = TaskWorld(task, {"a": {"4": 0.6, "5": 0.4}})
    >>> world(task_request(task, task.items[0], "sim"))
    {'4': 0.6, '5': 0.4}
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from callscale.backends.base import BackendError
from callscale.primitives.facts import FUSE, GENERATE, OPS, ROUTE, SELECT, VERIFY
from callscale.records import Fact, Request
from callscale.tasks.items import Item, Task
from callscale.tasks.parsers import LETTERS

Distribution = Mapping[str, float]
_RENDERED = 1 << 16  # permuted renderings kept (computing one shuffles the options once per answer)
Answers = Mapping[str, Distribution]
"""Item id → answer distribution, for one task."""


@dataclass(frozen=True)
class Judges:
    """How noisy the simulated judges are (see module docstring)."""

    tpr: float = 0.8
    fpr: float = 0.2
    select_skill: float = 0.5
    route_skill: float = 0.9


@dataclass(frozen=True)
class _Entry:
    task: Task
    item: Item
    answers: Distribution


@dataclass(frozen=True)
class SimulatedWorld:
    """Responder for :class:`~callscale.backends.simulated.SimulatedBackend` over the items of several
    tasks (see module docstring). ``answers`` maps task name → item id → answer distribution; tasks
    sharing a name are one task (an item id shared by two of them must be the same item).

    Example:
        >>> from callscale.primitives.facts import task_request
        >>> from callscale.tasks.items import Item, Task
        >>> a = Task("a", (Item(id="1", question="2+2?", answer="4"),), "{question}")
        >>> b = Task("b", (Item(id="1", question="3+3?", answer="6"),), "{question}")
        >>> world = SimulatedWorld((a, b), {"a": {"1": {"4": 1.0}}, "b": {"1": {"6": 1.0}}})
        >>> world(task_request(b, b.items[0], "sim"))
        {'6': 1.0}
    """

    tasks: Sequence[Task]
    answers: Mapping[str, Answers]
    judges: Judges = Judges()
    _entries: dict[str, dict[str, _Entry]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _rendered: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict, init=False, repr=False,
                                                               compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.answers) - {t.name for t in self.tasks}
        if unknown:
            raise ValueError(f"simulated world has answers for unknown task(s) {sorted(unknown)}")
        for task in self.tasks:
            if task.name not in self.answers:
                raise ValueError(f"simulated world has no answer distributions for task {task.name!r}")
            entries = self._entries.setdefault(task.name, {})
            answers = self.answers[task.name]
            for item in task.items:
                if item.id not in answers:
                    raise ValueError(f"simulated world has no answer distribution for item {item.id!r} of task {task.name!r}")
                known = entries.get(item.id)
                if known is not None and known.item != item:
                    raise ValueError(f"tasks named {task.name!r} hold two different items with id {item.id!r}")
                if known is None:
                    entries[item.id] = _Entry(task, item, answers[item.id])

    def __call__(self, request: Request) -> Distribution:
        facts = request.facts
        if not facts:
            text = request.messages[-1].content if request.messages else request.prompt or ""
            raise BackendError(f"the simulated world answers from a request's facts (task, item, op), and this request "
                               f"to model {request.model!r} has none; build it with a primitive or "
                               f"callscale.primitives.facts.task_request (prompt {text[:40]!r})")
        entry = self._entry(facts)
        op = facts.get("op")
        if op == GENERATE:
            seed = facts.get("permutation")
            return self._render(entry, seed if isinstance(seed, int) else None)
        if op == VERIFY:
            return self._verify(entry, str(_need(facts, "shown")))
        if op == SELECT:
            return self._select(entry, _listed(facts, "candidates"))
        if op == FUSE:
            return self._fuse(entry, _listed(facts, "candidates"))
        if op == ROUTE:
            return self._route(entry, _listed(facts, "specialists"))
        if op in OPS:
            raise BackendError(f"the simulated world does not simulate {op!r} calls (item {entry.item.id!r})")
        raise BackendError(f"request facts name no known op ({', '.join(OPS)}): got {op!r}")

    def _entry(self, facts: Mapping[str, Fact]) -> _Entry:
        task, item = _need(facts, "task"), _need(facts, "item")
        entries = self._entries.get(str(task))
        if entries is None:
            raise BackendError(f"the simulated world has no task {task!r} (it knows {', '.join(sorted(self._entries))})")
        entry = entries.get(str(item))
        if entry is None:
            raise BackendError(f"the simulated world has no item {item!r} in task {task!r}")
        return entry

    def correct(self, task: Task, item: Item, shown: str) -> bool:
        """Whether an answer as a judge is shown it (``B. Paris`` or ``4``) is the gold answer."""
        if item.choices:
            return shown.split(".", 1)[0].strip() == item.answer
        return task.score(shown.strip(), item) >= 1.0

    def _render(self, entry: _Entry, seed: int | None) -> dict[str, float]:
        """The item's distribution as written under option permutation ``seed``."""
        task, item, dist = entry.task, entry.item, entry.answers
        if not item.choices or seed is None:
            return dict(dist)
        known = self._rendered.get((id(entry), seed))  # the entries live as long as the world
        if known is not None:
            return dict(known)
        out: dict[str, float] = {}
        for answer, p in dist.items():
            shown = task.display_letter(answer, item, seed) if answer in LETTERS[: len(item.choices)] else answer
            out[shown] = out.get(shown, 0.0) + p
        if len(self._rendered) >= _RENDERED:
            self._rendered.clear()
        self._rendered[(id(entry), seed)] = out
        return dict(out)

    def _verify(self, entry: _Entry, shown: str) -> dict[str, float]:
        p = self.judges.tpr if self.correct(entry.task, entry.item, shown) else self.judges.fpr
        return {"yes": p, "no": 1.0 - p}

    def _select(self, entry: _Entry, shown: tuple[str, ...]) -> dict[str, float]:
        n, skill = len(shown), self.judges.select_skill
        if not n:
            raise BackendError(f"a select request lists no candidates (item {entry.item.id!r})")
        right = [i for i, s in enumerate(shown) if self.correct(entry.task, entry.item, s)]
        dist = {str(i + 1): (1.0 - skill) / n if right else 1.0 / n for i in range(n)}
        for i in right:
            dist[str(i + 1)] += skill / len(right)
        return dist

    def _fuse(self, entry: _Entry, texts: tuple[str, ...]) -> dict[str, float]:
        parsed = [entry.task.parse(t, entry.item) for t in texts]
        counts = Counter(a for a in parsed if a is not None)
        if not counts:
            return {"I cannot tell.": 1.0}
        top = max(counts.values())
        tied = sorted(a for a, c in counts.items() if c == top)
        return {f"Answer: {a}": 1.0 / len(tied) for a in tied}

    def _route(self, entry: _Entry, names: tuple[str, ...]) -> dict[str, float]:
        if not names:
            raise BackendError(f"a route request lists no specialists (item {entry.item.id!r})")
        domain = str(entry.item.metadata.get("domain", ""))
        if domain not in names:
            return dict.fromkeys(names, 1.0 / len(names))
        others = [n for n in names if n != domain]
        dist = dict.fromkeys(others, (1.0 - self.judges.route_skill) / max(1, len(others)))
        dist[domain] = self.judges.route_skill if others else 1.0
        return dist


def _need(facts: Mapping[str, Fact], key: str) -> Fact:
    if key not in facts:
        raise BackendError(f"request facts lack {key!r} (they have {', '.join(sorted(facts))})")
    return facts[key]


def _listed(facts: Mapping[str, Fact], key: str) -> tuple[str, ...]:
    value = _need(facts, key)
    return (str(value),) if isinstance(value, str | int) else tuple(value)


def simulated_world(*tasks: Task, answers: Mapping[str, Answers] | None = None, **judges: float) -> SimulatedWorld:
    """A world answering for the items of every task in ``tasks``; ``answers`` (task name → item id →
    distribution) defaults to :func:`synthetic_answers` of each task. ``judges`` are :class:`Judges` fields.

    Example:
        >>> from callscale.primitives.facts import task_request
        >>> from callscale.tasks.items import Item, Task
        >>> a = Task("a", (Item(id="1", question="2+2?", answer="4"),), "{question}")
        >>> b = Task("b", (Item(id="1", question="Sky?", choices=("red", "blue"), answer="B"),), "{question}{options}")
        >>> world = simulated_world(a, b, tpr=0.9)
        >>> sorted(world(task_request(b, b.items[0], "sim")))
        ['A', 'B', 'I am not sure.']
    """
    if answers is None:
        built: dict[str, dict[str, dict[str, float]]] = {}
        for task in tasks:
            built.setdefault(task.name, {}).update(synthetic_answers(task))
        answers = built
    return SimulatedWorld(tuple(tasks), answers, Judges(**judges))


@dataclass(frozen=True)
class TaskWorld:
    """The simulated world of one task, with ``answers`` keyed by item id (see module docstring).

    ``permutations`` is kept for compatibility: a request's facts carry its permutation seed, so
    every seed is answered.
    """

    task: Task
    answers: Answers
    tpr: float = 0.8
    fpr: float = 0.2
    select_skill: float = 0.5
    route_skill: float = 0.9
    permutations: int = 64
    world: SimulatedWorld = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        judges = Judges(self.tpr, self.fpr, self.select_skill, self.route_skill)
        object.__setattr__(self, "world", SimulatedWorld((self.task,), {self.task.name: self.answers}, judges))

    @classmethod
    def of(cls, task: Task, **judges: float) -> TaskWorld:
        """The world of ``task`` with its :func:`synthetic_answers`; ``judges`` are :class:`Judges` fields.

        Example:
            >>> from callscale.tasks.items import Item, Task
            >>> TaskWorld.of(Task("t", (Item(id="a", question="2+2?", answer="4"),), "{question}"), tpr=0.9).tpr
            0.9
        """
        j = Judges(**judges)
        return cls(task, synthetic_answers(task), j.tpr, j.fpr, j.select_skill, j.route_skill)

    def __call__(self, request: Request) -> Distribution:
        return self.world(request)

    def correct(self, item: Item, shown: str) -> bool:
        """Whether a judge's shown answer (``B. Paris`` or ``4``) is the gold answer."""
        return self.world.correct(self.task, item, shown)


def synthetic_answers(task: Task, *, seed: int = 0, easy_fraction: float = 0.6, p_easy: float = 0.75,
                      p_hard: float = 0.3, abstain: float = 0.05) -> dict[str, dict[str, float]]:
    """Answer distributions for a simulated run of a real task: a two-level mixture of easy items
    (gold with probability ``p_easy``) and hard ones (gold with ``p_hard``, a distractor ahead of it).

    Example:
        >>> from callscale.tasks.items import Item, Task
        >>> task = Task("t", (Item(id="a", question="2+2?", answer="4"),), "{question}")
        >>> round(sum(synthetic_answers(task)["a"].values()), 9)
        1.0
    """
    out: dict[str, dict[str, float]] = {}
    for item in task.items:
        rng = random.Random(f"{seed}/{item.id}")
        easy = rng.random() < easy_fraction
        p_gold = (p_easy if easy else p_hard) * (1 - abstain)
        if item.choices:
            wrong = [letter for letter in LETTERS[: len(item.choices)] if letter != item.answer]
        else:
            try:
                g = int(float(item.answer))
                wrong = [str(g + 1), str(g - 1), str(g * 10)]
            except ValueError:
                wrong = [f"not {item.answer}", f"maybe {item.answer}s", "unknown"]
        rng.shuffle(wrong)
        rest = (1 - abstain) - p_gold
        top = rest * (0.6 if not easy else 0.4)  # on hard items one distractor leads
        dist = {item.answer: p_gold, wrong[0]: top}
        for w in wrong[1:]:
            dist[w] = dist.get(w, 0.0) + (rest - top) / max(1, len(wrong) - 1)
        if abstain:
            dist["I am not sure."] = abstain
        out[item.id] = dist
    return out
