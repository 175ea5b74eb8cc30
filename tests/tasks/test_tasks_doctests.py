"""The examples in the docstrings of callscale.tasks run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "callscale.tasks",
    "callscale.tasks._rng",
    "callscale.tasks.generated",
    "callscale.tasks.items",
    "callscale.tasks.loaders",
    "callscale.tasks.parsers",
    "callscale.tasks.registry",
    "callscale.tasks.scorers",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
