"""The backend registry: name → backend class, imported only when first used.

The four built-in backends are listed here by import path; another package adds one without
editing callscale through the ``callscale.backends`` entry-point group (``name = "pkg.mod:Class"``
in its packaging metadata), and a program adds one with :func:`register_backend`. The CLI's
``--backend`` and :func:`~callscale.backends.factory.open_backend` both read this registry.

A registered class is any :class:`~callscale.backends.base.Backend`. To be opened from a
:class:`~callscale.backends.factory.BackendSpec` (the CLI's options) it may define
``from_spec(spec, *, responder=None)`` returning a backend or an async context manager yielding
one, and ``check_spec(spec)`` raising :class:`~callscale.backends.base.ConfigurationError` for
settings that cannot work; without ``from_spec`` it is built with no arguments.

Example:
    >>> "openai" in backend_names() and backend_class("simulated").__name__
    'SimulatedBackend'
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from callscale.backends.base import ConfigurationError

ENTRY_POINT_GROUP = "callscale.backends"
BUILTIN_BACKENDS = {
    "local": "callscale.backends.local:LocalBackend",
    "openai": "callscale.backends.openai_compat:OpenAICompatBackend",
    "simulated": "callscale.backends.simulated:SimulatedBackend",
    "replay": "callscale.backends.replay:ReplayBackend",
}
_registered: dict[str, type[Any] | str] = {}


def register_backend(name: str, cls: type[Any] | str, *, replace: bool = False) -> None:
    """Make ``cls`` (a class, or ``"module:Class"`` to import lazily) the backend called ``name``.

    Example:
        >>> class Echo: ...
        >>> register_backend("echo-doc", Echo)
        >>> backend_class("echo-doc") is Echo
        True
        >>> unregister_backend("echo-doc")
    """
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"a backend name is letters, digits, '-' and '_', got {name!r}")
    if not replace and (name in _registered or name in BUILTIN_BACKENDS):
        raise ValueError(f"a backend called {name!r} is registered already (pass replace=True to replace it)")
    _registered[name] = cls


def unregister_backend(name: str) -> None:
    """Forget a backend added with :func:`register_backend`."""
    _registered.pop(name, None)


def _entry_points() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def backend_names() -> list[str]:
    """Every backend that can be opened: built-in, from entry points, and registered in this process."""
    return list(dict.fromkeys([*BUILTIN_BACKENDS, *sorted(_entry_points()), *sorted(_registered)]))


def backend_class(name: str) -> type[Any]:
    """The class of backend ``name``, imported now if it was given by path; a one-line
    :class:`ConfigurationError` for an unknown name or one that cannot be imported."""
    target: type[Any] | str | None = _registered.get(name) or BUILTIN_BACKENDS.get(name) or _entry_points().get(name)
    if target is None:
        raise ConfigurationError(f"unknown backend {name!r}; choose one of {', '.join(backend_names())}")
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    try:
        found = importlib.import_module(module)
        for part in attr.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"backend {name!r} cannot be loaded from {target!r} ({exc})") from None
    if not isinstance(found, type):
        raise ConfigurationError(f"backend {name!r}: {target!r} is not a class")
    return found
