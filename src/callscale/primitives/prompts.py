"""Prompts for the LLM-judging primitives (verify, select, knock-out, fuse, route).

They are plain text a real model reads and may be reworded freely: the simulated world never reads
them, it answers from the facts each request carries (:mod:`callscale.primitives.facts`), so the same
network runs on both.

Example:
    >>> print(verify_prompt("2+2?", None, "4").splitlines()[-1])
    Is the proposed answer correct? Reply with yes or no.
"""

from __future__ import annotations

from collections.abc import Sequence

from callscale.tasks.parsers import LETTERS

VERIFY_TAIL = "Is the proposed answer correct? Reply with yes or no."
SELECT_TAIL = "Which candidate answer is correct? Reply with its number only."
FUSE_TAIL = "Considering these attempts, give the single best final answer."
ROUTE_HEAD = "Pick the specialist for this request."


def question_block(question: str, choices: Sequence[str] | None) -> str:
    """The question, with its options as lettered lines when it has any."""
    if not choices:
        return f"Question: {question}"
    options = "\n".join(f"{LETTERS[i]}. {text}" for i, text in enumerate(choices))
    return f"Question: {question}\n{options}"


def show_answer(answer: str | None, choices: Sequence[str] | None) -> str:
    """How a canonical answer is shown to a judge (``B. Paris`` for options)."""
    if answer is None:
        return "(no answer)"
    if choices and len(answer) == 1 and answer in LETTERS[: len(choices)]:
        return f"{answer}. {choices[LETTERS.index(answer)]}"
    return answer


def verify_prompt(question: str, choices: Sequence[str] | None, answer: str | None) -> str:
    """Ask whether one answer is correct."""
    return f"{question_block(question, choices)}\nProposed answer: {show_answer(answer, choices)}\n{VERIFY_TAIL}"


def select_prompt(question: str, choices: Sequence[str] | None, answers: Sequence[str | None]) -> str:
    """Ask which of several numbered answers is correct."""
    listed = "\n".join(f"{i + 1}. {show_answer(a, choices)}" for i, a in enumerate(answers))
    return f"{question_block(question, choices)}\nCandidate answers:\n{listed}\n{SELECT_TAIL}"


def fuse_prompt(question: str, choices: Sequence[str] | None, texts: Sequence[str], instruction: str = "") -> str:
    """Ask for one final answer written from several attempts."""
    listed = "\n".join(f"- {t.strip()}" for t in texts)
    tail = f"{FUSE_TAIL} {instruction}".strip()
    return f"{question_block(question, choices)}\nCandidate answers from several attempts:\n{listed}\n{tail}"


def route_prompt(description: str, specialists: Sequence[str]) -> str:
    """Ask a delegator which specialist should handle a request it sees only briefly."""
    return (f"{ROUTE_HEAD}\nSpecialists: {', '.join(specialists)}\nRequest: {description}\n"
            "Reply with the specialist's name only.")
