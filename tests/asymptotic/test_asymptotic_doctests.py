"""The examples in the asymptotic package's docstrings (and the analyze command's) run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import callscale.asymptotic
import callscale.asymptotic.examples

MODULES = sorted(
    ["callscale.asymptotic", "callscale.asymptotic.examples", "callscale.cli.analyze", "callscale.report.asymptotic"]
    + [f"callscale.asymptotic.{m.name}" for m in pkgutil.iter_modules(callscale.asymptotic.__path__) if m.name != "examples"]
    + [f"callscale.asymptotic.examples.{m.name}" for m in pkgutil.iter_modules(callscale.asymptotic.examples.__path__)]
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
