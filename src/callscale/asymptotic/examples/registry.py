"""The example registry: name → :class:`~callscale.asymptotic.examples.framework.Example`, imported when first used.

The shipped examples are registered by :mod:`callscale.asymptotic.examples` by import path
(``"module:EXAMPLE"``); a program adds its own with :func:`register_example`. ``callscale analyze``
and :func:`get_example` read this registry.

Example:
    >>> "routing" in example_names() and get_example("routing").vary
    'k'
"""

from __future__ import annotations

import importlib

from callscale.asymptotic.examples.framework import Example


class UnknownExampleError(KeyError):
    """No example of that name."""


_registered: dict[str, Example | str] = {}


def register_example(name: str, example: Example | str, *, replace: bool = False) -> None:
    """Make ``example`` (an :class:`Example`, or ``"module:ATTR"`` to import lazily) the example called ``name``.

    Example:
        >>> register_example("routing-again", get_example("routing"))
        >>> get_example("routing-again").title == get_example("routing").title
        True
        >>> unregister_example("routing-again")
    """
    if not replace and name in _registered:
        raise ValueError(f"an example called {name!r} is registered already (pass replace=True to replace it)")
    _registered[name] = example


def unregister_example(name: str) -> None:
    """Forget the example called ``name``."""
    _registered.pop(name, None)


def example_names() -> tuple[str, ...]:
    """Every registered example, in registration order."""
    return tuple(_registered)


def get_example(name: str) -> Example:
    """The example called ``name``, imported now if it was registered by path.

    Example:
        >>> get_example("debugging").paper
        'gain Θ(b·k²)'
    """
    target = _registered.get(name)
    if target is None:
        raise UnknownExampleError(f"unknown example {name!r}; choose one of {', '.join(_registered)}, "
                                  "or give a network file")
    if isinstance(target, Example):
        return target
    module, _, attr = target.partition(":")
    example = getattr(importlib.import_module(module), attr or "EXAMPLE")
    if not isinstance(example, Example):
        raise TypeError(f"example {name!r}: {target!r} is not an Example")
    return example


__all__ = ["UnknownExampleError", "example_names", "get_example", "register_example", "unregister_example"]
