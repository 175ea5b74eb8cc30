"""The examples in the search package's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import callscale.search

MODULES = sorted(["callscale.search"] + [f"callscale.search.{m.name}" for m in pkgutil.iter_modules(callscale.search.__path__)])


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
