"""Making records cheap: every simulated call builds several, so their cost shows in throughput.

``once`` is a lock-free ``functools.cached_property``; ``slot_init`` gives a frozen, slotted dataclass
an ``__init__`` that stores fields through their slots.

Example:
    >>> from dataclasses import dataclass
    >>> @slot_init
    ... @dataclass(frozen=True, slots=True)
    ... class Point:
    ...     x: int
    ...     y: int = 0
    >>> Point(3), Point(1, y=2)
    (Point(x=3, y=0), Point(x=1, y=2))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
C = TypeVar("C", bound=type)


class once(Generic[T]):  # lower case: used as a decorator, like functools.cached_property
    """A value computed on first read and kept in the instance's ``__dict__``.

    functools.cached_property does the same but takes a lock on every first read in Python 3.11,
    which costs more than computing a request's identity; a race here only computes the same
    value twice.
    """

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> once[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | once[T]:
        if instance is None:
            return self
        value = instance.__dict__[self._name] = self._compute(instance)
        return value


class _Factory:
    """Marks an argument left to its field's default factory (shown as ``<factory>``, as dataclasses do)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def slot_init(cls: C) -> C:
    """Replace a frozen, slotted dataclass's ``__init__`` by one storing through the slots' descriptors.

    The generated one stores each field with ``object.__setattr__(self, name, value)``, which looks
    the name up again on every call; the slot descriptor's ``__set__`` skips that, and a Completion
    is built about twice as fast. Signature, defaults, default factories and ``__post_init__`` are
    those of the dataclass; fields excluded from ``__init__`` or keyword-only are refused.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: slot_init needs a frozen dataclass with slots")
    names: dict[str, Any] = {"_FACTORY": _FACTORY}
    args, body = [], []
    for f in dataclasses.fields(cls):
        if not f.init or f.kw_only:
            raise TypeError(f"{cls.__name__}.{f.name}: slot_init handles positional __init__ fields only")
        names[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        value = f.name
        if f.default is not dataclasses.MISSING:
            names[f"_default_{f.name}"] = f.default
            args.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_factory_{f.name}"] = f.default_factory
            args.append(f"{f.name}=_FACTORY")
            value = f"_factory_{f.name}() if {f.name} is _FACTORY else {f.name}"
        else:
            args.append(f.name)
        body.append(f"_set_{f.name}(self, {value})")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    exec(f"def __init__(self, {', '.join(args)}):\n    " + "\n    ".join(body or ["pass"]), names)
    init = names["__init__"]
    init.__annotations__ = dict(cls.__init__.__annotations__)  # type: ignore[misc]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[misc]
    return cls
