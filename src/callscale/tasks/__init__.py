"""Tasks: items, prompts, answer parsers, scorers, loaders and the shipped benchmark slices.

Example:
    >>> from callscale.tasks import get_task
    >>> task = get_task("arc_easy")
    >>> item = task.items[0]
    >>> request = task.request(item, "smollm2", permutation_seed=3, temperature=1.0)
    >>> shown = task.display_letter(item.answer, item, permutation_seed=3)
    >>> task.parse(f"The answer is {shown}.", item, permutation_seed=3) == item.answer
    True
"""

from callscale.tasks.generated import LEVELS, Level, evaluate, generate_arithmetic, generated_arithmetic_task
from callscale.tasks.items import Item, Scorer, Task, permutation
from callscale.tasks.loaders import (
    ItemRecord,
    TaskDataError,
    dumps_rows,
    from_huggingface,
    item_to_row,
    load_jsonl,
    load_shipped,
    parse_jsonl,
    shipped_manifest,
    shipped_names,
    write_jsonl,
)
from callscale.tasks.parsers import (
    LETTERS,
    AnswerParser,
    canonical_number,
    normalize_text,
    parse_choice,
    parse_exact,
    parse_number,
    parse_text,
    parse_yes_no,
)
from callscale.tasks.registry import UnknownTaskError, get_task, load_task, register_task, task_names, unregister_task
from callscale.tasks.scorers import exact_match, normalized_match, numeric_match, reference_recall, reference_strings

__all__ = [
    "LETTERS",
    "LEVELS",
    "AnswerParser",
    "Item",
    "ItemRecord",
    "Level",
    "Scorer",
    "Task",
    "TaskDataError",
    "UnknownTaskError",
    "canonical_number",
    "dumps_rows",
    "evaluate",
    "exact_match",
    "from_huggingface",
    "generate_arithmetic",
    "generated_arithmetic_task",
    "get_task",
    "item_to_row",
    "load_jsonl",
    "load_shipped",
    "load_task",
    "normalize_text",
    "normalized_match",
    "numeric_match",
    "parse_choice",
    "parse_exact",
    "parse_jsonl",
    "parse_number",
    "parse_text",
    "parse_yes_no",
    "permutation",
    "reference_recall",
    "reference_strings",
    "register_task",
    "shipped_manifest",
    "shipped_names",
    "task_names",
    "unregister_task",
    "write_jsonl",
]
