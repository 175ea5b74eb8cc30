"""The examples in the docstrings of the search package (every module, subpackages included) and of
its report run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import callscale.search

MODULES = sorted(
    ["callscale.search", "callscale.report.search"]
    + [m.name for m in pkgutil.walk_packages(callscale.search.__path__, prefix="callscale.search.")]
)


def test_every_module_is_listed() -> None:
    assert {"callscale.search.searchers", "callscale.search.searchers.agent_rules",
            "callscale.search.environments.live"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
