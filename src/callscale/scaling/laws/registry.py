"""The registry of scaling laws: name → class. The analysis, the report and the benchmark fit and
show every registered law; add one with :func:`register_law`.

Example:
    >>> from callscale.scaling.laws import ChenLaw
    >>> register_law("chen_again", ChenLaw)
    >>> get_law("chen_again") is ChenLaw and "chen_again" in law_names()
    True
    >>> unregister_law("chen_again")
"""

from __future__ import annotations

from callscale.scaling.laws.base import ScalingLaw

__all__ = ["get_law", "law_names", "register_law", "unregister_law"]

_LAWS: dict[str, type[ScalingLaw]] = {}


def register_law(name: str, cls: type[ScalingLaw]) -> None:
    """Register ``cls`` (a :class:`~callscale.scaling.laws.base.ScalingLaw`) under ``name``; a name
    already taken by another class is an error."""
    if not (isinstance(cls, type) and issubclass(cls, ScalingLaw)):
        raise TypeError(f"{cls!r} is not a ScalingLaw subclass")
    if not name or not name.isidentifier():
        raise ValueError(f"law names are identifiers, got {name!r}")
    if _LAWS.get(name, cls) is not cls:
        raise ValueError(f"a different law is already registered as {name!r}")
    _LAWS[name] = cls


def unregister_law(name: str) -> None:
    """Remove the law registered as ``name`` (no error when there is none)."""
    _LAWS.pop(name, None)


def get_law(name: str) -> type[ScalingLaw]:
    """The class registered as ``name``; ``KeyError`` naming the known laws otherwise."""
    try:
        return _LAWS[name]
    except KeyError:
        raise KeyError(f"no scaling law {name!r}; known: {', '.join(_LAWS)}") from None


def law_names() -> list[str]:
    """The registered names, in registration order (the built-ins first: ours, chen, coverage)."""
    return list(_LAWS)
