"""The one home of lazy package faces: a package lists where each public name lives, and a name's
module is imported on first use (``import callscale`` stays cheap; type checkers see the names in
an ``if TYPE_CHECKING:`` block).

Example:
    >>> getattr_, dir_ = lazy_face("pkg", {"sqrt": "math", "math": "math"}, ["sqrt"], {})  # dir: public + loaded
    >>> getattr_("sqrt")(9.0), getattr_("math").pi > 3, dir_()
    (3.0, True, ['math', 'sqrt'])
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any


def lazy_face(package: str, homes: Mapping[str, str], public: Iterable[str],
              namespace: MutableMapping[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: a name listed in ``homes`` is imported from its
    module (or is that module, when the home ends with the name) and kept in ``namespace`` (the
    package's ``globals()``); any other name is an AttributeError."""
    names = tuple(public)

    def getattr_(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(home)
        value = module if home == name or home.endswith("." + name) else getattr(module, name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *names})

    return getattr_, dir_
