"""Scorers: ``scorer(canonical_answer, item) -> float`` in [0, 1].

Answers reach a scorer already parsed into canonical form (see :mod:`callscale.tasks.parsers`),
so most scoring is plain equality. :meth:`Task.score <callscale.tasks.items.Task.score>` gives an
abstention (``None``) a score of 0 before a scorer is called.

Example:
    >>> from callscale.tasks.items import Item
    >>> item = Item(id="g1", question="?", answer="1250")
    >>> exact_match("1250", item), numeric_match("1250.0", item)
    (1.0, 1.0)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Protocol

from callscale.tasks.parsers import canonical_number, normalize_text


class Item(Protocol):
    """What a scorer reads of an item (:class:`callscale.tasks.items.Item` has it): the gold answer and metadata."""

    @property
    def answer(self) -> str: ...

    @property
    def metadata(self) -> Mapping[str, Any]: ...


__all__ = ["exact_match", "normalized_match", "numeric_match", "reference_recall", "reference_strings"]


def exact_match(answer: str | None, item: Item) -> float:
    """1.0 when the canonical answer equals the item's gold answer, else 0.0.

    Example:
        >>> from callscale.tasks.items import Item
        >>> exact_match("B", Item(id="x", question="?", choices=("p", "q"), answer="B"))
        1.0
    """
    return 1.0 if answer is not None and answer == item.answer else 0.0


def normalized_match(answer: str | None, item: Item) -> float:
    """1.0 when both sides agree after :func:`~callscale.tasks.parsers.normalize_text`.

    Example:
        >>> from callscale.tasks.items import Item
        >>> normalized_match("the eiffel tower", Item(id="x", question="?", answer="Eiffel Tower"))
        1.0
    """
    if answer is None:
        return 0.0
    return 1.0 if normalize_text(answer) == normalize_text(item.answer) else 0.0


def _as_fraction(value: str) -> Fraction | None:
    canonical = canonical_number(value)
    if canonical is None:
        return None
    try:
        return Fraction(canonical) if "/" in canonical else Fraction(Decimal(canonical))
    except (ValueError, InvalidOperation, ZeroDivisionError):
        return None


def numeric_match(answer: str | None, item: Item) -> float:
    """1.0 when the answer and the gold are the same number (exactly, after canonicalisation).

    Example:
        >>> from callscale.tasks.items import Item
        >>> numeric_match("1.50", Item(id="x", question="?", answer="3/2"))
        1.0
    """
    if answer is None:
        return 0.0
    a, b = _as_fraction(answer), _as_fraction(item.answer)
    return 1.0 if a is not None and a == b else 0.0


def reference_strings(answer: Any) -> list[str]:
    """All the strings a structured reference answer is made of (dict keys and values, list items).

    Booleans become "yes"/"no"; numbers their decimal text. This is how FanOutQA counts answers.

    Example:
        >>> reference_strings({"Pat Burrell": "Right", "JD Drew": ["Left", 3]})
        ['Pat Burrell', 'Right', 'JD Drew', 'Left', '3']
    """
    return list(_flatten(answer))


def _flatten(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _flatten(key)
            yield from _flatten(sub)
    elif isinstance(value, list | tuple):
        for sub in value:
            yield from _flatten(sub)
    elif isinstance(value, bool):
        yield "yes" if value else "no"
    elif value is not None:
        yield str(value)


def _normalize_numbers(text: str) -> str:
    return re.sub(r"(\d+,)+\d+(\.\d+)?", lambda m: m[0].replace(",", ""), text)


def reference_recall(answer: str | None, item: Item) -> float:
    """Fraction of the reference strings found (as whole words, normalised) in the answer.

    The reference is ``item.metadata["answer"]`` when present (a structured answer such as
    FanOutQA's), else ``item.answer``. A loose, string-level accuracy in the FanOutQA manner.

    Example:
        >>> from callscale.tasks.items import Item
        >>> it = Item(id="x", question="?", answer="a", metadata={"answer": {"Mulder": "Left", "Drew": "Right"}})
        >>> reference_recall("Mulder: left. Drew: no idea", it)
        0.75
    """
    if answer is None:
        return 0.0
    reference = item.metadata.get("answer", item.answer) if item.metadata else item.answer
    parts = [normalize_text(_normalize_numbers(s)) for s in reference_strings(reference)]
    parts = [p for p in parts if p]
    if not parts:
        return 0.0
    candidate = normalize_text(_normalize_numbers(answer))
    found = sum(1 for p in parts if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", candidate))
    return found / len(parts)
