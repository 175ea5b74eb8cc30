"""Free-form arithmetic items of graded difficulty, generated deterministically from a seed.

A difficulty :class:`Level` fixes the number of operands, their digits and the operators, so a
study can set the easy/hard mix of a task exactly (vote scaling depends on that mix). Answers
are exact integers; ``*`` binds tighter than ``+`` and ``-``.

Example:
    >>> items = generate_arithmetic(6, seed=1, levels=[1, 6], weights=[2, 1])
    >>> sorted(it.metadata["level"] for it in items)
    [1, 1, 1, 1, 6, 6]
    >>> evaluate(items[0].question) == int(items[0].answer)
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from callscale.tasks._rng import HashStream
from callscale.tasks.items import Item, Task
from callscale.tasks.parsers import parse_number
from callscale.tasks.scorers import numeric_match

__all__ = ["LEVELS", "Level", "evaluate", "generate_arithmetic", "generated_arithmetic_task"]

ARITHMETIC_TEMPLATE = "Calculate: {question}\nReply with the number only."


@dataclass(frozen=True)
class Level:
    """A difficulty: ``operands`` numbers of ``digits`` digits joined by operators drawn from ``ops``.

    Example:
        >>> Level(operands=3, digits=2, ops="+-").label
        '3x2d[+-]'
    """

    operands: int
    digits: int
    ops: str = "+-"

    def __post_init__(self) -> None:
        if self.operands < 2 or self.digits < 1:
            raise ValueError("a Level needs at least 2 operands of at least 1 digit")
        if not self.ops or set(self.ops) - set("+-*"):
            raise ValueError("Level ops must be a non-empty subset of '+-*'")

    @property
    def label(self) -> str:
        """A short name such as ``"2x1d[+-]"``.

        Example:
            >>> LEVELS[1].label
            '2x1d[+-]'
        """
        return f"{self.operands}x{self.digits}d[{self.ops}]"


LEVELS: dict[int, Level] = {
    1: Level(2, 1, "+-"),
    2: Level(2, 2, "+-"),
    3: Level(3, 2, "+-"),
    4: Level(2, 2, "*"),
    5: Level(3, 2, "+-*"),
    6: Level(4, 3, "+-*"),
}
"""Built-in difficulty levels, easiest first."""


def evaluate(expression: str) -> int:
    """The exact value of an integer expression of ``+``, ``-`` and ``*`` (a trailing ``=`` is ignored).

    Example:
        >>> evaluate("2 + 3 * 4 - 5 =")
        9
    """
    tokens = re.findall(r"\d+|[-+*]", expression.replace("=", " "))
    if not tokens or len(tokens) % 2 == 0:
        raise ValueError(f"not an arithmetic expression: {expression!r}")
    terms: list[int] = []
    sign, product = 1, int(tokens[0])
    for op, number in zip(tokens[1::2], tokens[2::2], strict=True):
        if op == "*":
            product *= int(number)
        else:
            terms.append(sign * product)
            sign, product = (1 if op == "+" else -1), int(number)
    terms.append(sign * product)
    return sum(terms)


def _apportion(n: int, weights: Sequence[float]) -> list[int]:
    total = float(sum(weights))
    if n < 0 or total <= 0 or any(w < 0 for w in weights):
        raise ValueError("need n >= 0 and non-negative weights with a positive sum")
    quotas = [n * w / total for w in weights]
    counts = [int(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _expression(level: Level, stream: HashStream) -> str:
    low = 1 if level.digits == 1 else 10 ** (level.digits - 1)
    high = 10**level.digits - 1
    parts = [str(stream.between(low, high))]
    for _ in range(level.operands - 1):
        parts += [stream.choice(level.ops), str(stream.between(low, high))]
    return " ".join(parts)


def generate_arithmetic(
    n: int,
    *,
    seed: int = 0,
    levels: Sequence[int | Level] | None = None,
    weights: Sequence[float] | None = None,
) -> tuple[Item, ...]:
    """``n`` arithmetic items whose difficulty mix is set exactly by ``levels`` and ``weights``.

    ``levels`` are keys of :data:`LEVELS` or :class:`Level` objects (default: all built-in
    levels); ``weights`` their relative shares (default: equal), apportioned to exact counts.
    Items are shuffled deterministically, questions are distinct within a level where possible,
    and the same arguments always give the same items. ``metadata["level"]`` is the level number
    (the position, from 1, for :class:`Level` objects).

    Example:
        >>> [it.question for it in generate_arithmetic(2, seed=0, levels=[1])] == [
        ...     it.question for it in generate_arithmetic(2, seed=0, levels=[1])]
        True
    """
    chosen: list[tuple[int, Level]] = []
    for position, level in enumerate(levels if levels is not None else sorted(LEVELS), start=1):
        if isinstance(level, Level):
            chosen.append((position, level))
        elif level in LEVELS:
            chosen.append((level, LEVELS[level]))
        else:
            raise ValueError(f"unknown level {level!r}; built-in levels are {sorted(LEVELS)}")
    if weights is not None and len(weights) != len(chosen):
        raise ValueError(f"{len(weights)} weights for {len(chosen)} levels")
    counts = _apportion(n, weights if weights is not None else [1.0] * len(chosen))
    items: list[Item] = []
    for (number, level), count in zip(chosen, counts, strict=True):
        stream = HashStream("arithmetic", seed, level.label)
        seen: set[str] = set()
        for k in range(count):
            expression = _expression(level, stream)
            for _ in range(50):
                if expression not in seen:
                    break
                expression = _expression(level, stream)
            seen.add(expression)
            items.append(
                Item(
                    id=f"arith/s{seed}/L{number}/{k}",
                    question=f"{expression} =",
                    answer=str(evaluate(expression)),
                    metadata={
                        "level": number,
                        "label": level.label,
                        "operands": level.operands,
                        "digits": level.digits,
                        "ops": level.ops,
                        "seed": seed,
                    },
                )
            )
    return tuple(HashStream("arithmetic-order", seed).shuffled(items))


def generated_arithmetic_task(
    n: int = 300,
    *,
    seed: int = 0,
    levels: Sequence[int | Level] | None = None,
    weights: Sequence[float] | None = None,
    name: str = "generated_arithmetic",
) -> Task:
    """A free-form arithmetic :class:`~callscale.tasks.items.Task` over :func:`generate_arithmetic` items.

    Example:
        >>> task = generated_arithmetic_task(10, seed=3, levels=[1, 2])
        >>> len(task), task.grade(f"It is {task.items[0].answer}.", task.items[0])
        (10, 1.0)
    """
    levels_text = ", ".join(str(x) for x in (levels if levels is not None else sorted(LEVELS)))
    return Task(
        name=name,
        items=generate_arithmetic(n, seed=seed, levels=levels, weights=weights),
        template=ARITHMETIC_TEMPLATE,
        parser=parse_number,
        scorer=numeric_match,
        description=f"Generated integer arithmetic, seed {seed}, levels {levels_text}; answer is a number.",
        sampling={"max_tokens": 16},
        source="generated by callscale.tasks.generated",
    )
