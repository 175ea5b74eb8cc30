"""Items and tasks: what to ask, how to ask it, how to read and score the reply.

A :class:`Task` turns an :class:`Item` into a :class:`~callscale.records.Request`. For multiple
choice, the order of the options can be permuted by a seed; the permutation is part of the
prompt (so each permutation is its own sample pool) and :meth:`Task.parse` maps the letter the
model gave back to the item's original option letter. Permuting per sample turns a model's
letter bias into noise instead of a systematic error.

Example:
    >>> from callscale.tasks.parsers import parse_number
    >>> from callscale.tasks.scorers import exact_match
    >>> task = Task(name="sums", items=(Item(id="s1", question="2 + 3 =", answer="5"),),
    ...             template="{question}", parser=parse_number, scorer=exact_match)
    >>> item = task.items[0]
    >>> task.request(item, "smollm2", temperature=0.7).messages[-1].content
    '2 + 3 ='
    >>> task.score(task.parse("It is 5.", item), item)
    1.0
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from callscale.records import Request, Sampling
from callscale.tasks._rng import HashStream, hash_rank
from callscale.tasks.parsers import LETTERS, AnswerParser, parse_choice, parse_exact
from callscale.tasks.scorers import exact_match

Scorer = Callable[[str | None, "Item"], float]
"""``(canonical answer or None, item) -> score in [0, 1]``."""

_TEMPLATE_FIELDS = frozenset({"question", "options", "letters"})
_SAMPLING_FIELDS = frozenset(f.name for f in dataclasses.fields(Sampling))


@dataclass(frozen=True, kw_only=True)
class Item:
    """One question with its gold answer, in canonical form.

    ``choices`` is ``None`` for free-form items; for multiple choice it holds the option texts in
    their original order and ``answer`` is the original option letter (``"A"``, ``"B"``…).
    ``metadata`` carries anything else (source, subject, decomposition, worked solution…).

    Example:
        >>> item = Item(id="q1", question="Capital of France?", choices=("Rome", "Paris"), answer="B")
        >>> item.gold_text
        'Paris'
    """

    id: str
    question: str
    answer: str
    choices: tuple[str, ...] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("an Item needs a non-empty id")
        if self.choices is not None:
            if not isinstance(self.choices, tuple):
                object.__setattr__(self, "choices", tuple(self.choices))
            n = len(self.choices or ())
            if not 2 <= n <= len(LETTERS):
                raise ValueError(f"item {self.id!r}: {n} choices; need 2 to {len(LETTERS)}")
            if self.answer not in LETTERS[:n]:
                raise ValueError(f"item {self.id!r}: answer {self.answer!r} is not one of {LETTERS[:n]!r}")

    @property
    def is_multiple_choice(self) -> bool:
        """Whether the item has options.

        Example:
            >>> Item(id="x", question="1+1", answer="2").is_multiple_choice
            False
        """
        return self.choices is not None

    @property
    def gold_text(self) -> str:
        """The gold answer as text: the correct option's text, or the answer itself.

        Example:
            >>> Item(id="x", question="1+1", answer="2").gold_text
            '2'
        """
        if self.choices is None:
            return self.answer
        return self.choices[LETTERS.index(self.answer)]


def permutation(item_id: str, n: int, seed: int | None) -> tuple[int, ...]:
    """The display order of ``n`` options for ``(item_id, seed)``: position j shows option ``order[j]``.

    ``seed=None`` is the identity (original order). Deterministic on every platform.

    Example:
        >>> permutation("q1", 4, None)
        (0, 1, 2, 3)
        >>> sorted(permutation("q1", 4, 7)) == [0, 1, 2, 3]
        True
    """
    if seed is None:
        return tuple(range(n))
    return tuple(HashStream("permutation", item_id, n, seed).shuffled(range(n)))


def _template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@dataclass(frozen=True, eq=False)
class Task:
    """A named set of items with the prompt, answer parser and scorer that go with them.

    ``template`` is a :meth:`str.format` template with ``{question}`` and, for multiple choice,
    ``{options}`` (lines ``"A. text"``) and optionally ``{letters}`` (``"A, B, C or D"``).
    ``parser(text, displayed_choices)`` returns a canonical answer or ``None``; ``scorer(answer,
    item)`` returns a score in [0, 1]; they default to :func:`~callscale.tasks.parsers.parse_choice`
    (or :func:`~callscale.tasks.parsers.parse_exact` for free-form items) and
    :func:`~callscale.tasks.scorers.exact_match`. ``sampling`` holds default sampler settings for this task
    (e.g. ``max_tokens``), overridable per request.

    Example:
        >>> from callscale.tasks.scorers import exact_match
        >>> item = Item(id="q", question="Sky colour?", choices=("red", "blue"), answer="B")
        >>> task = Task(name="demo", items=(item,), template="{question}\\n{options}\\nLetter?",
        ...             scorer=exact_match)
        >>> print(task.prompt(item))
        Sky colour?
        A. red
        B. blue
        Letter?
    """

    name: str
    items: tuple[Item, ...]
    template: str
    parser: AnswerParser | None = None
    scorer: Scorer | None = None
    description: str = ""
    system: str | None = None
    sampling: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.items, tuple):
            object.__setattr__(self, "items", tuple(self.items))
        if self.parser is None:
            mc = any(it.is_multiple_choice for it in self.items)
            object.__setattr__(self, "parser", parse_choice if mc else parse_exact)
        if self.scorer is None:
            object.__setattr__(self, "scorer", exact_match)
        unknown = _template_fields(self.template) - _TEMPLATE_FIELDS
        if unknown:
            raise ValueError(f"task {self.name!r}: template fields {sorted(unknown)} unknown; use {sorted(_TEMPLATE_FIELDS)}")
        if "question" not in _template_fields(self.template):
            raise ValueError(f"task {self.name!r}: template needs a {{question}} field")
        if any(it.is_multiple_choice for it in self.items) and "options" not in _template_fields(self.template):
            raise ValueError(f"task {self.name!r}: multiple-choice items need an {{options}} field in the template")
        bad = set(self.sampling) - _SAMPLING_FIELDS
        if bad:
            raise ValueError(f"task {self.name!r}: unknown sampling fields {sorted(bad)}")
        seen: set[str] = set()
        for it in self.items:
            if it.id in seen:
                raise ValueError(f"task {self.name!r}: duplicate item id {it.id!r}")
            seen.add(it.id)

    # -- collection helpers -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __repr__(self) -> str:
        return f"Task(name={self.name!r}, items={len(self.items)})"

    def item(self, item_id: str) -> Item:
        """The item with id ``item_id`` (``KeyError`` if absent).

        Example:
            >>> Task("t", (Item(id="a", question="q", answer="1"),), "{question}").item("a").answer
            '1'
        """
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(f"task {self.name!r} has no item {item_id!r}")

    def with_items(self, items: Iterable[Item], *, name: str | None = None) -> Task:
        """A copy of this task over other items (same prompt, parser and scorer).

        Example:
            >>> t = Task("t", (Item(id="a", question="q", answer="1"),), "{question}")
            >>> len(t.with_items([]))
            0
        """
        return dataclasses.replace(self, items=tuple(items), name=name or self.name)

    def with_template(self, template: str, *, system: str | None = None) -> Task:
        """A copy of this task with another prompt template (and optionally system message).

        Example:
            >>> t = Task("t", (Item(id="a", question="q", answer="1"),), "{question}")
            >>> t.with_template("Q: {question}\\nA:").prompt(t.items[0])
            'Q: q\\nA:'
        """
        return dataclasses.replace(self, template=template, system=system if system is not None else self.system)

    def subset(self, n: int, *, seed: int | None = None) -> Task:
        """The first ``n`` items, or ``n`` items chosen reproducibly by ``seed`` (kept in task order).

        Example:
            >>> t = Task("t", tuple(Item(id=str(i), question="q", answer="1") for i in range(5)), "{question}")
            >>> [it.id for it in t.subset(2).items], len(t.subset(3, seed=1))
            (['0', '1'], 3)
        """
        if seed is None:
            return self.with_items(self.items[:n])
        chosen = set(sorted((it.id for it in self.items), key=lambda i: hash_rank(seed, i))[:n])
        return self.with_items(it for it in self.items if it.id in chosen)

    def split(self, n_first: int, *, seed: int = 0) -> tuple[Task, Task]:
        """A reproducible split into ``n_first`` items and the rest (e.g. search train/test).

        Example:
            >>> t = Task("t", tuple(Item(id=str(i), question="q", answer="1") for i in range(5)), "{question}")
            >>> a, b = t.split(2)
            >>> len(a), len(b), set(i.id for i in a.items).isdisjoint(i.id for i in b.items)
            (2, 3, True)
        """
        first = self.subset(n_first, seed=seed)
        ids = {it.id for it in first.items}
        return first, self.with_items(it for it in self.items if it.id not in ids)

    # -- prompting ----------------------------------------------------------------------------

    def order(self, item: Item, permutation_seed: int | None = None) -> tuple[int, ...]:
        """Display order of ``item``'s options (identity without a seed; empty for free-form).

        Example:
            >>> it = Item(id="q", question="?", choices=("x", "y", "z"), answer="A")
            >>> Task("t", (it,), "{question}{options}").order(it)
            (0, 1, 2)
        """
        if item.choices is None:
            return ()
        return permutation(item.id, len(item.choices), permutation_seed)

    def displayed_choices(self, item: Item, permutation_seed: int | None = None) -> tuple[str, ...] | None:
        """The option texts in the order shown for ``permutation_seed`` (``None`` for free-form).

        Example:
            >>> it = Item(id="q", question="?", choices=("x", "y"), answer="A")
            >>> Task("t", (it,), "{question}{options}").displayed_choices(it)
            ('x', 'y')
        """
        if item.choices is None:
            return None
        choices = item.choices
        return tuple(choices[i] for i in self.order(item, permutation_seed))

    def prompt(self, item: Item, permutation_seed: int | None = None) -> str:
        """The user message for ``item`` (options permuted by ``permutation_seed`` if given).

        Example:
            >>> it = Item(id="q", question="2+2?", answer="4")
            >>> Task("t", (it,), "Q: {question}").prompt(it)
            'Q: 2+2?'
        """
        shown = self.displayed_choices(item, permutation_seed)
        if shown is None:
            return self.template.format(question=item.question, options="", letters="")
        letters = LETTERS[: len(shown)]
        options = "\n".join(f"{letter}. {text}" for letter, text in zip(letters, shown, strict=True))
        letter_list = ", ".join(letters[:-1]) + f" or {letters[-1]}"
        return self.template.format(question=item.question, options=options, letters=letter_list)

    def request(
        self,
        item: Item,
        model: str,
        *,
        permutation_seed: int | None = None,
        system: str | None = None,
        extra: Mapping[str, Any] | None = None,
        **sampling: Any,
    ) -> Request:
        """The chat request asking ``model`` about ``item``.

        Sampling keyword arguments (``temperature``, ``max_tokens``, ``top_k``…) override the
        task's defaults. ``permutation_seed`` shows the options in a seeded order.

        Example:
            >>> it = Item(id="q", question="2+2?", answer="4")
            >>> req = Task("t", (it,), "{question}", sampling={"max_tokens": 8}).request(it, "m", temperature=0.5)
            >>> req.sampling.max_tokens, req.sampling.temperature
            (8, 0.5)
        """
        settings = {**self.sampling, **sampling}
        if "stop" in settings:
            settings["stop"] = tuple(settings["stop"])
        return Request.chat(
            model,
            self.prompt(item, permutation_seed),
            system=system if system is not None else self.system,
            extra=extra,
            **settings,
        )

    # -- reading answers ----------------------------------------------------------------------

    def display_letter(self, original: str, item: Item, permutation_seed: int | None = None) -> str:
        """The letter under which original option ``original`` is shown for ``permutation_seed``.

        Example:
            >>> it = Item(id="q", question="?", choices=("x", "y", "z"), answer="C")
            >>> t = Task("t", (it,), "{question}{options}")
            >>> t.unpermute(t.display_letter("C", it, 5), it, 5)
            'C'
        """
        order = self.order(item, permutation_seed)
        return LETTERS[order.index(LETTERS.index(original))]

    def unpermute(self, letter: str | None, item: Item, permutation_seed: int | None = None) -> str | None:
        """Map a displayed option letter back to the item's original letter (``None`` stays ``None``).

        Example:
            >>> it = Item(id="q", question="?", choices=("x", "y"), answer="A")
            >>> Task("t", (it,), "{question}{options}").unpermute("B", it)
            'B'
        """
        if letter is None or item.choices is None:
            return letter
        order = self.order(item, permutation_seed)
        position = LETTERS.find(letter)
        if not 0 <= position < len(order):
            return None
        return LETTERS[order[position]]

    def parse(self, text: str, item: Item, *, permutation_seed: int | None = None) -> str | None:
        """The canonical answer in ``text`` (original option letter for multiple choice), or ``None``.

        Never raises: a parser error is an abstention.

        Example:
            >>> it = Item(id="q", question="?", choices=("x", "y"), answer="A")
            >>> Task("t", (it,), "{question}{options}").parse("Answer: A", it)
            'A'
        """
        try:
            shown = self.displayed_choices(item, permutation_seed)
            assert self.parser is not None
            answer = self.parser(text, shown)
            if answer is None:
                return None
            return self.unpermute(answer, item, permutation_seed) if shown is not None else answer
        except Exception:
            return None

    def score(self, answer: str | None, item: Item) -> float:
        """The score of canonical ``answer`` on ``item`` (0 for an abstention).

        Example:
            >>> it = Item(id="q", question="?", answer="4")
            >>> t = Task("t", (it,), "{question}")
            >>> t.score("4", it), t.score(None, it)
            (1.0, 0.0)
        """
        if answer is None:
            return 0.0
        assert self.scorer is not None
        return float(self.scorer(answer, item))

    def grade(self, text: str, item: Item, *, permutation_seed: int | None = None) -> float:
        """Parse then score one completion.

        Example:
            >>> it = Item(id="q", question="?", answer="4")
            >>> from callscale.tasks.parsers import parse_number
            >>> Task("t", (it,), "{question}", parser=parse_number).grade("2 + 2 = 4", it)
            1.0
        """
        return self.score(self.parse(text, item, permutation_seed=permutation_seed), item)

    @property
    def is_multiple_choice(self) -> bool:
        """Whether the task's items have options.

        Example:
            >>> Task("t", (Item(id="a", question="q", answer="1"),), "{question}").is_multiple_choice
            False
        """
        return any(it.is_multiple_choice for it in self.items)
