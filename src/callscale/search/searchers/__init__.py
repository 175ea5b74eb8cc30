"""The searchers: one module each, behind one registry (name → factory and the options it accepts).

Built-in searchers are listed here by import path and imported when first used (TPE needs Optuna,
an optional dependency, only when one is built):

========================  ====================================================================
``random``                uniform over the configurations within budget (:mod:`.random`)
``grid``                  coarse-to-fine grid over models × a sample-count ladder (:mod:`.grid`)
``tpe``                   Optuna's tree-structured Parzen estimator (:mod:`.tpe`)
``model_based``           fitted per-stage quality curves, predicted-best first (:mod:`.model_based`);
                          also called ``model``
``agent``                 an LLM reads the archive and proposes (:mod:`.agent`)
========================  ====================================================================

A program adds one with :func:`register_searcher`; :func:`get_searcher` builds any of them for a
space and budget, and :func:`searcher_names` lists them. A factory is a
:class:`~callscale.search.base.Searcher` subclass or any callable ``(space, budget, **options) ->
Searcher``; the options it accepts are declared as :class:`~callscale.search.base.Option` values
(a subclass's ``options``, or ``options=`` when registering), which is what ``callscale optimize``
reads: ``--seed`` feeds ``seed``, ``--searcher-option KEY=VALUE`` any option that can be given as
text, and the command line supplies ``llm`` (the searcher's language model) and ``curves``
(per-stage curves measured on a live task) to searchers that declare them.

Example:
    >>> from callscale.search.environments.simulated import AgentTTSBenchmark
    >>> bench = AgentTTSBenchmark()
    >>> searcher = get_searcher("random", bench.space, 900, seed=3)
    >>> searcher.name, "tpe" in searcher_names()
    ('random', True)
    >>> [o.name for o in searcher_options("tpe")]
    ['seed', 'n_startup_trials', 'max_retries', 'multivariate']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from callscale.search.base import Option, Searcher
from callscale.search.budget import Number
from callscale.search.space import Space

SearcherFactory = Callable[..., Searcher]
"""``factory(space, budget, **options) -> Searcher`` (a Searcher subclass is one)."""

BUILTIN_SEARCHERS: dict[str, str] = {
    "random": "callscale.search.searchers.random:RandomSearcher",
    "grid": "callscale.search.searchers.grid:GridSearcher",
    "tpe": "callscale.search.searchers.tpe:TPESearcher",
    "model_based": "callscale.search.searchers.model_based:ModelBasedAllocator",
    "agent": "callscale.search.searchers.agent:AgentSearcher",
}
BUILTIN_ALIASES: dict[str, str] = {"model": "model_based"}


@dataclass(frozen=True)
class SearcherEntry:
    """A registered searcher: its name, factory and declared options.

    Example:
        >>> searcher_entry("model").name
        'model_based'
    """

    name: str
    factory: SearcherFactory
    options: tuple[Option, ...]

    def option(self, name: str) -> Option:
        """The declared option ``name`` (ValueError listing the accepted ones otherwise)."""
        for opt in self.options:
            if opt.name == name:
                return opt
        accepted = ", ".join(o.name for o in self.options) or "none"
        raise ValueError(f"searcher {self.name!r} takes no option {name!r} (it takes: {accepted})")

    def build(self, space: Space, budget: Number, **options: Any) -> Searcher:
        """The searcher for ``space`` and ``budget``; ``options`` must be declared, required ones given."""
        for name in options:
            self.option(name)
        missing = [o.name for o in self.options if o.required and o.name not in options]
        if missing:
            raise ValueError(f"searcher {self.name!r} needs option {', '.join(map(repr, missing))}")
        return self.factory(space, budget, **options)


_registered: dict[str, tuple[SearcherFactory | str, tuple[Option, ...] | None]] = {}
_aliases: dict[str, str] = {}
_loaded: dict[str, SearcherEntry] = {}


def register_searcher(
    name: str,
    factory: SearcherFactory | str,
    *,
    options: Iterable[Option] | None = None,
    aliases: Iterable[str] = (),
    replace: bool = False,
) -> None:
    """Make ``factory`` (or ``"module:attr"``, imported when first used) the searcher called ``name``.

    ``options`` declares the keyword options the factory accepts; by default those of the factory
    itself (``factory.options``, as every :class:`~callscale.search.base.Searcher` subclass has).

    Example:
        >>> from callscale.search.searchers.random import RandomSearcher
        >>> register_searcher("uniform-doc", RandomSearcher, aliases=["u-doc"])
        >>> searcher_entry("u-doc").factory is RandomSearcher
        True
        >>> unregister_searcher("uniform-doc")
    """
    aliases = tuple(aliases)
    for label in (name, *aliases):
        if not label or not label.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"a searcher name is letters, digits, '-' and '_', got {label!r}")
        taken = label in _registered or label in BUILTIN_SEARCHERS or label in searcher_aliases()
        if taken and not replace:
            raise ValueError(f"a searcher called {label!r} is registered already (pass replace=True to replace it)")
    _registered[name] = (factory, None if options is None else tuple(options))
    _loaded.pop(name, None)
    for alias in aliases:
        _aliases[alias] = name


def unregister_searcher(name: str) -> None:
    """Forget a searcher added with :func:`register_searcher` (and its aliases)."""
    _registered.pop(name, None)
    _loaded.pop(name, None)
    for alias in [a for a, target in _aliases.items() if target == name]:
        del _aliases[alias]


def searcher_names() -> list[str]:
    """Every searcher that can be built: built-in, then registered in this process (aliases not listed).

    Example:
        >>> searcher_names()[:5]
        ['random', 'grid', 'tpe', 'model_based', 'agent']
    """
    return list(dict.fromkeys([*BUILTIN_SEARCHERS, *sorted(_registered)]))


def searcher_aliases() -> dict[str, str]:
    """Other names searchers answer to (alias → name).

    Example:
        >>> searcher_aliases()["model"]
        'model_based'
    """
    return {**BUILTIN_ALIASES, **_aliases}


def searcher_entry(name: str) -> SearcherEntry:
    """The searcher called ``name`` (or an alias of it), imported now if it was given by path;
    KeyError naming the choices for an unknown name."""
    name = searcher_aliases().get(name, name)
    entry = _loaded.get(name)
    if entry is not None:
        return entry
    target: SearcherFactory | str
    if name in _registered:
        target, declared = _registered[name]
    elif name in BUILTIN_SEARCHERS:
        target, declared = BUILTIN_SEARCHERS[name], None
    else:
        raise KeyError(f"unknown searcher {name!r}; choose one of {', '.join(searcher_names())}")
    factory = _import(name, target) if isinstance(target, str) else target
    if declared is None:
        declared = tuple(getattr(factory, "options", ()))
    entry = _loaded[name] = SearcherEntry(name, factory, declared)
    return entry


def searcher_options(name: str) -> tuple[Option, ...]:
    """The options searcher ``name`` accepts (beyond ``space`` and ``budget``)."""
    return searcher_entry(name).options


def get_searcher(name: str, space: Space, budget: Number, **options: Any) -> Searcher:
    """Searcher ``name`` built for ``space`` and ``budget`` with keyword ``options``.

    Raises KeyError for an unknown name and ValueError for an option the searcher does not declare
    or a required one missing.

    Example:
        >>> from callscale.search.environments.simulated import agentts_space
        >>> get_searcher("grid", agentts_space(), 500).propose([], 1)[0].config.key
        '[["3B",1],["3B",1]]'
        >>> get_searcher("grid", agentts_space(), 500, step=2)
        Traceback (most recent call last):
        ...
        ValueError: searcher 'grid' takes no option 'step' (it takes: seed)
    """
    return searcher_entry(name).build(space, budget, **options)


def _import(name: str, target: str) -> SearcherFactory:
    module, _, attr = target.partition(":")
    try:
        found: Any = importlib.import_module(module)
        for part in attr.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"searcher {name!r} cannot be loaded from {target!r} ({exc})") from None
    if not callable(found):
        raise TypeError(f"searcher {name!r}: {target!r} is not callable")
    result: SearcherFactory = found
    return result
