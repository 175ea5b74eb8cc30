"""The model catalogue: which models exist, where they are served, their size, prices, limits and timeouts.

One file (``models.yaml``/``.yml`` or ``models.toml``) holds a ``models`` table; each key is the name
networks and ``--model`` use, each value an entry::

    models:
      gpt-4o-mini:                      # the name networks use
        backend: openai                 # local | openai | simulated | replay | any registered backend
        base_url: https://api.openai.com/v1
        api_key_env: OPENAI_API_KEY     # the *name* of the variable; keys never go in this file
        provider: openai                # for the price table (genai-prices) when no prices are given
        rpm: 500                        # requests per minute
        tpm: 200000                     # tokens per minute
        timeout: 60                     # seconds for one whole call
      qwen-7b:
        backend: openai
        model: Qwen/Qwen2.5-7B-Instruct # the served name (default: the entry's name)
        base_url: http://127.0.0.1:8000/v1
        params: 7.6B                    # parameter count m (a number, or with K/M/B/T)
        price_in: 0                     # dollars per 1M input tokens (given here: price_source "catalogue")
        price_out: 0
        concurrency: 16
        max_n: 8

Every field but ``backend`` is optional: ``model``, ``base_url`` (required for ``openai``),
``api_key_env``, ``params``, ``price_in``, ``price_out``, ``provider``, ``concurrency``, ``rpm``,
``tpm``, ``timeout``, ``connect_timeout``, ``max_n``, ``chat`` (false for base models served with
plain completions), ``context_length``, ``weights`` (a GGUF for the ``local`` backend, relative to the
file) and ``requires`` (what to run first, e.g. ``make models``). YAML anchors and merge keys
(``<<: *common``) work; top-level keys starting with ``x-`` are ignored (a place for anchors).

A file that cannot work stops before any call with one :class:`CatalogueError` line naming the file,
the line and the field. Unknown prices stay ``None`` (shown as "—") with a :class:`PriceWarning`,
never 0 dollars; unknown parameter counts stay 0.

Example:
    >>> cat = builtin_catalogue()
    >>> entry = cat.get("smollm2-135m-instruct")
    >>> entry.backend, entry.card().params, entry.card().price_in_per_mtok
    ('local', 134515008, None)
    >>> cat.get("gpt-5-ultra")
    Traceback (most recent call last):
    ...
    callscale.catalogue.CatalogueError: unknown model 'gpt-5-ultra'; known models: gemma3-270m, smollm2-135m-instruct
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
import tomllib
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, overload
from urllib.parse import urlsplit

from callscale.backends.base import ConfigurationError
from callscale.backends.local import DEFAULT_MODEL, SMOLLM2_CARD
from callscale.limits import RateLimiters
from callscale.records import ModelCard

T = TypeVar("T")

FIELDS = ("backend", "model", "base_url", "api_key_env", "params", "price_in", "price_out", "provider", "concurrency",
          "rpm", "tpm", "timeout", "connect_timeout", "max_n", "chat", "context_length", "weights", "requires")
"""Every field an entry may have."""
PRICE_SOURCES = ("catalogue", "genai-prices")
"""Where a price can come from (``None``: unknown)."""
UNPRICED_BACKENDS = ("local", "simulated")
"""Backends that run on this machine: no price lookup (and no warning) unless a provider is named."""
GEMMA_PARAMS = 268_098_176
"""Parameters of Gemma 3 270M (the optional second local model)."""


class CatalogueError(ConfigurationError):
    """A catalogue that cannot work, or a model it does not name: one line, naming file, line and field."""


class PriceWarning(UserWarning):
    """No price is known for a model: its dollars are unknown ("—"), never 0."""


@dataclass(frozen=True)
class ModelEntry:
    """One model of the catalogue: how to reach it and what it costs.

    ``params`` 0 means unknown; ``price_in``/``price_out`` are dollars per million tokens, ``None``
    when unknown; ``price_source`` says where they came from (``"catalogue"``, ``"genai-prices"`` or
    ``None``). ``api_key_env`` is only the name of an environment variable: keys are never read here.

    Example:
        >>> e = ModelEntry("m", backend="openai", base_url="http://127.0.0.1:8000/v1", params=7_000_000_000)
        >>> e.model, e.endpoint, e.card().params, e.card().price_out_per_mtok
        ('m', 'openai+http://127.0.0.1:8000/v1', 7000000000, None)
    """

    name: str
    backend: str
    model: str = ""
    base_url: str | None = None
    api_key_env: str | None = None
    params: int = 0
    price_in: float | None = None
    price_out: float | None = None
    price_source: str | None = None
    provider: str | None = None
    concurrency: int | None = None
    rpm: float | None = None
    tpm: float | None = None
    timeout: float | None = None
    connect_timeout: float | None = None
    max_n: int | None = None
    chat: bool = True
    context_length: int | None = None
    weights: str | None = None
    requires: str | None = None

    def __post_init__(self) -> None:
        if not self.model:
            object.__setattr__(self, "model", self.name)

    @property
    def endpoint(self) -> str:
        """The server this entry talks to: backend kind and normalised base URL (scheme, host, port,
        path), or backend kind and served model when there is no URL (each local model is its own
        server). Entries with the same endpoint share one backend and one rate limiter.

        Example:
            >>> ModelEntry("a", "openai", base_url="HTTPS://API.openai.com/v1/").endpoint
            'openai+https://api.openai.com:443/v1'
            >>> ModelEntry("smol", "local").endpoint
            'local:smol'
        """
        if self.base_url:
            return f"{self.backend}+{normalise_url(self.base_url)}"
        return f"{self.backend}:{self.model}"

    def card(self) -> ModelCard:
        """What cost accounting needs: parameter count (0: unknown) and prices (None: unknown)."""
        return ModelCard(self.name, params=self.params, price_in_per_mtok=self.price_in,
                         price_out_per_mtok=self.price_out, context_length=self.context_length, chat=self.chat)

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready data (fields left at their defaults are omitted), plus its endpoint.

        Example:
            >>> ModelEntry("smol", "local", params=5).to_dict()
            {'name': 'smol', 'backend': 'local', 'model': 'smol', 'params': 5, 'endpoint': 'local:smol'}
        """
        defaults = ModelEntry("", "")
        out = {k: v for k, v in self.__dict__.items() if k in ("name", "backend", "model") or v != getattr(defaults, k)}
        return {**out, "endpoint": self.endpoint}


@dataclass(frozen=True)
class Catalogue(Mapping[str, ModelEntry]):
    """Model name → :class:`ModelEntry`; :meth:`get` raises a one-line :class:`CatalogueError` for an
    unknown name (``catalogue[name]`` raises ``KeyError``, like any mapping).

    Example:
        >>> user = Catalogue((ModelEntry("sim", "simulated"),), source="mine.yaml")
        >>> sorted(builtin_catalogue().merged(user))
        ['gemma3-270m', 'sim', 'smollm2-135m-instruct']
    """

    entries: tuple[ModelEntry, ...] = ()
    source: str | None = None
    _index: dict[str, ModelEntry] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index: dict[str, ModelEntry] = {}
        for entry in self.entries:
            if entry.name in index:
                raise CatalogueError(f"{self.source or '<catalogue>'}: duplicate model name {entry.name!r}")
            index[entry.name] = entry
        object.__setattr__(self, "_index", index)

    def __getitem__(self, name: str) -> ModelEntry:
        return self._index[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    @overload
    def get(self, name: str, /) -> ModelEntry: ...

    @overload
    def get(self, name: str, default: T, /) -> ModelEntry | T: ...

    def get(self, name: str, *default: Any) -> Any:
        """The entry called ``name``; unknown → one-line :class:`CatalogueError` listing the known
        names (or ``default``, when one is given)."""
        entry = self._index.get(name)
        if entry is not None:
            return entry
        if default:
            return default[0]
        known = ", ".join(sorted(self._index)) or "none"
        close = difflib.get_close_matches(name, list(self._index), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CatalogueError(f"unknown model {name!r}{hint}; known models: {known}")

    def merged(self, other: Catalogue) -> Catalogue:
        """This catalogue with ``other``'s entries added; an entry of ``other`` replaces one of the same name."""
        ours = tuple(e for e in self.entries if e.name not in other)
        sources = [s for s in (self.source, other.source) if s]
        return Catalogue(ours + other.entries, source=" + ".join(sources) or None)

    def endpoint_limits(self) -> dict[str, tuple[float | None, float | None]]:
        """Endpoint → (rpm, tpm): the strictest limits any entry on that endpoint declares.

        Example:
            >>> cat = Catalogue((ModelEntry("a", "openai", base_url="http://h:1/v1", rpm=60),
            ...                  ModelEntry("b", "openai", base_url="http://h:1/v1", rpm=30, tpm=1000)))
            >>> cat.endpoint_limits()
            {'openai+http://h:1/v1': (30, 1000)}
        """
        out: dict[str, tuple[float | None, float | None]] = {}
        for entry in self.entries:
            rpm, tpm = out.get(entry.endpoint, (None, None))
            out[entry.endpoint] = (_stricter(rpm, entry.rpm), _stricter(tpm, entry.tpm))
        return out

    def limiters(self) -> RateLimiters:
        """One :class:`~callscale.limits.RateLimiter` per endpoint (make one set per run and share it)."""
        return RateLimiters(self.endpoint_limits())


def _stricter(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


# -- values ---------------------------------------------------------------------------------------------------------

def normalise_url(url: str) -> str:
    """``url`` with lower-case scheme and host, an explicit port and no trailing slash.

    Example:
        >>> normalise_url("http://LOCALHOST/v1/")
        'http://localhost:80/v1'
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}{f':{port}' if port else ''}{parts.path.rstrip('/')}"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmbt])?\s*$", re.IGNORECASE)
_SCALE = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}


def parse_params(value: Any) -> int:
    """A parameter count from a number or a string such as ``"135M"``, ``"7.6B"`` or ``"1.5e9"``.

    Example:
        >>> parse_params("134.5M"), parse_params(7e9), parse_params("1.5e9")
        (134500000, 7000000000, 1500000000)
        >>> parse_params("big")
        Traceback (most recent call last):
        ...
        ValueError: must be a positive parameter count such as 134515008, 135M or 7B, got 'big'
    """
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        match = _SIZE.match(value.replace("_", ""))
        if match:
            number = float(match.group(1)) * _SCALE.get((match.group(2) or "").lower(), 1)
        else:
            try:
                number = float(value.replace("_", ""))
            except ValueError:
                number = None
    if number is None or not math.isfinite(number) or number < 1:
        raise ValueError(f"must be a positive parameter count such as 134515008, 135M or 7B, got {_show(value)}")
    return round(number)


def _show(value: Any) -> str:
    """A short one-line rendering of a value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: Any, *, positive: bool, integer: bool = False) -> float | int:
    kind = "whole number" if integer else "number"
    bound = "a positive" if positive else "a non-negative"
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer and value != int(value):
        ok = False
    if ok and (value <= 0 if positive else value < 0):
        ok = False
    if not ok:
        raise ValueError(f"must be {bound} {kind}, got {_show(value)}")
    return int(value) if integer else value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, got {_show(value)}")
    return value.strip()


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(value: Any) -> str:
    name = _text(value)
    if not _ENV_NAME.match(name):
        raise ValueError(f"must name an environment variable (like OPENAI_API_KEY), not hold a key; got {len(name)} characters")
    return name


def _url(value: Any) -> str:
    url = _text(value)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL such as http://127.0.0.1:8000/v1, got {_show(value)}")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError(f"has a bad port: {_show(value)}") from None
    return url.rstrip("/")


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {_show(value)}")
    return value


def _backend(value: Any) -> str:
    from callscale.backends.registry import backend_names

    name = _text(value)
    names = backend_names()
    if name not in names:
        raise ValueError(f"unknown backend kind {name!r}; choose one of {', '.join(names)}")
    return name


_CHECKS: dict[str, Any] = {
    "backend": _backend,
    "model": _text,
    "base_url": _url,
    "api_key_env": _env_name,
    "params": parse_params,
    "price_in": functools.partial(_number, positive=False),
    "price_out": functools.partial(_number, positive=False),
    "provider": _text,
    "concurrency": functools.partial(_number, positive=True, integer=True),
    "rpm": functools.partial(_number, positive=True),
    "tpm": functools.partial(_number, positive=True),
    "timeout": functools.partial(_number, positive=True),
    "connect_timeout": functools.partial(_number, positive=True),
    "max_n": functools.partial(_number, positive=True, integer=True),
    "chat": _bool,
    "context_length": functools.partial(_number, positive=True, integer=True),
    "weights": _text,
    "requires": _text,
}
assert set(_CHECKS) == set(FIELDS)


# -- reading files --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Raw:
    """One entry as read from a file: its name and line, and each field's value and line."""

    name: str
    line: int
    fields: dict[str, tuple[Any, int]]


def _fail(source: str, line: int, message: str) -> CatalogueError:
    where = f"{source}:{line}" if line > 0 else source
    return CatalogueError(f"{where}: {' '.join(message.split())}")


def _entry_from_raw(raw: _Raw, source: str, base_dir: Path | None) -> ModelEntry:
    """Validate one raw entry into a :class:`ModelEntry` (prices not looked up yet)."""
    if not isinstance(raw.name, str) or not raw.name.strip():
        raise _fail(source, raw.line, f"a model name must be a non-empty string, got {_show(raw.name)}")
    name = raw.name

    def fail(key: str, line: int, problem: str) -> CatalogueError:
        return _fail(source, line, f"model {name!r}, field {key!r}: {problem}")

    values: dict[str, Any] = {}
    for key, (value, line) in raw.fields.items():
        if key == "api_key":
            raise fail(key, line, "API keys never go in the catalogue; set api_key_env to the name of an environment variable")
        if key not in _CHECKS:
            close = difflib.get_close_matches(str(key), FIELDS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise fail(str(key), line, f"unknown field ({hint}fields: {', '.join(FIELDS)})")
        try:
            values[key] = _CHECKS[key](value)
        except ValueError as exc:
            raise fail(key, line, str(exc)) from None
    if "backend" not in values:
        raise fail("backend", raw.line, "missing (one of: local, openai, simulated, replay or a registered backend)")
    if values["backend"] == "openai" and "base_url" not in values:
        raise fail("base_url", raw.line, "an openai entry needs base_url (e.g. http://127.0.0.1:8000/v1)")
    if values["backend"] == "local" and "base_url" in values:
        raise fail("base_url", raw.fields["base_url"][1],
                   "a local entry is served in-process; use backend openai for a running server")
    if "weights" in values and base_dir is not None:
        weights = Path(values["weights"]).expanduser()
        values["weights"] = str(weights if weights.is_absolute() else base_dir / weights)
    if "price_in" in values or "price_out" in values:
        values["price_source"] = "catalogue"
    return ModelEntry(name=name, **values)


def _yaml_raws(text: str, source: str) -> list[_Raw]:
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return []

        def line(node: Any) -> int:
            return int(node.start_mark.line) + 1

        def pairs(node: Any, what: str) -> list[tuple[Any, Any]]:
            """The (key node, value node) pairs of a mapping node: own duplicates refused, merge keys applied."""
            if not isinstance(node, yaml.MappingNode):
                got = {"sequence": "a list", "scalar": f"the value {_show(loader.construct_object(node))}"}.get(node.id, node.id)
                raise _fail(source, line(node), f"{what} must be a mapping (name: value), got {got}")
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = loader.construct_object(key_node, deep=True)
                if key in seen:
                    dup = f"duplicate model name {key!r}" if what == "models" else f"{what}, field {_show(key)}: duplicate"
                    raise _fail(source, line(key_node), f"{dup} (first at line {seen[key]})")
                seen[key] = line(key_node)
            loader.flatten_mapping(node)
            last: dict[Any, tuple[Any, Any]] = {}
            for key_node, value_node in node.value:
                last[loader.construct_object(key_node, deep=True)] = (key_node, value_node)
            return list(last.values())

        models: Any = None
        for key_node, value_node in pairs(root, "the catalogue"):
            key = loader.construct_object(key_node, deep=True)
            if key == "models":
                models = value_node
            elif not (isinstance(key, str) and key.startswith("x-")):
                raise _fail(source, line(key_node), f"unknown top-level key {_show(key)} (the catalogue is a 'models' mapping)")
        if models is None:
            raise _fail(source, line(root), "no 'models' mapping (models: {name: {backend: ...}})")
        if isinstance(models, yaml.ScalarNode) and loader.construct_object(models) is None:
            return []
        raws = []
        for name_node, entry_node in pairs(models, "models"):
            name = loader.construct_object(name_node, deep=True)
            fields = {loader.construct_object(k, deep=True): (loader.construct_object(v, deep=True), line(k))
                      for k, v in pairs(entry_node, f"model {_show(name)}")}
            raws.append(_Raw(name, line(name_node), fields))
        return raws
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _fail(source, mark.line + 1 if mark else 0, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise _fail(source, 0, f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()


_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")


def _toml_key(text: str) -> tuple[str, ...]:
    parts = re.findall(_KEY, text)
    return tuple(json.loads(p) if p.startswith('"') else p.strip("'") for p in parts)


def _toml_lines(text: str) -> dict[tuple[str, ...], int]:
    """Key path → first line it appears on (table headers and ``key =`` lines; best effort)."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, row in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(row)
        assign = None if header else _ASSIGN.match(row)
        if header:
            table = _toml_key(header.group(1))
            path = table
        elif assign:
            path = table + _toml_key(assign.group(1))
        else:
            continue
        for i in range(1, len(path) + 1):
            lines.setdefault(path[:i], number)
    return lines


def _toml_raws(text: str, source: str) -> list[_Raw]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\(at line (\d+), column \d+\)", message)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        dup = re.match(r"Cannot declare \('models', '([^']*)'\) twice", message)
        if dup:
            message = f"duplicate model name {dup.group(1)!r}"
        elif "twice" in message or "overwrite" in message:
            rows = text.splitlines()
            row = rows[int(at.group(1)) - 1] if at and 0 < int(at.group(1)) <= len(rows) else ""
            found = _ASSIGN.match(row) or _HEADER.match(row)
            message = f"field {'.'.join(_toml_key(found.group(1)))!r}: duplicate" if found else f"duplicate key ({message})"
        raise _fail(source, int(at.group(1)) if at else 0, f"not valid TOML: {message}" if not dup else message) from None
    lines = _toml_lines(text)
    for key in data:
        if key != "models" and not key.startswith("x-"):
            raise _fail(source, lines.get((key,), 1), f"unknown top-level key {key!r} (the catalogue is a 'models' table)")
    if "models" not in data:
        raise _fail(source, 1, "no [models] table ([models.NAME] with backend = ...)")
    models = data["models"]
    if not isinstance(models, dict):
        raise _fail(source, lines.get(("models",), 1), "models must be a table of models ([models.NAME])")
    raws = []
    for name, entry in models.items():
        entry_line = lines.get(("models", name), lines.get(("models",), 1))
        if not isinstance(entry, dict):
            raise _fail(source, entry_line, f"model {name!r} must be a table of fields, got {_show(entry)}")
        fields = {k: (v, lines.get(("models", name, k), entry_line)) for k, v in entry.items()}
        raws.append(_Raw(name, entry_line, fields))
    return raws


def parse_catalogue(text: str, *, fmt: str = "yaml", source: str = "<catalogue>", base_dir: Path | None = None,
                    prices: bool = True) -> Catalogue:
    """A catalogue from the text of a ``yaml`` or ``toml`` file (``source`` names it in errors).

    Example:
        >>> cat = parse_catalogue("models:\\n  sim:\\n    backend: simulated\\n    params: 7B\\n")
        >>> cat.get("sim").params
        7000000000
        >>> parse_catalogue("models:\\n  sim:\\n    backend: simulated\\n    rpm: -1\\n", source="m.yaml")
        Traceback (most recent call last):
        ...
        callscale.catalogue.CatalogueError: m.yaml:4: model 'sim', field 'rpm': must be a positive number, got -1
    """
    if fmt not in ("yaml", "toml"):
        raise CatalogueError(f"{source}: unknown catalogue format {fmt!r} (yaml or toml)")
    raws = _yaml_raws(text, source) if fmt == "yaml" else _toml_raws(text, source)
    entries = tuple(_entry_from_raw(raw, source, base_dir) for raw in raws)
    if prices:
        entries = tuple(with_prices(e) for e in entries)
    return Catalogue(entries, source=source)


def catalogue_from_dict(models: Mapping[str, Any], *, source: str = "<dict>", prices: bool = True) -> Catalogue:
    """A catalogue from Python data (name → fields), checked like a file (errors name no line).

    Example:
        >>> catalogue_from_dict({"sim": {"backend": "simulated", "rpm": 60}}).get("sim").rpm
        60
        >>> catalogue_from_dict({"sim": {"backend": "simulated", "rpm": 0}})
        Traceback (most recent call last):
        ...
        callscale.catalogue.CatalogueError: <dict>: model 'sim', field 'rpm': must be a positive number, got 0
    """
    if not isinstance(models, Mapping):
        raise _fail(source, 0, f"models must be a mapping of name → fields, got {_show(models)}")
    raws = []
    for name, fields in models.items():
        if not isinstance(fields, Mapping):
            raise _fail(source, 0, f"model {_show(name)} must be a mapping of fields, got {_show(fields)}")
        raws.append(_Raw(name, 0, {k: (v, 0) for k, v in fields.items()}))
    entries = tuple(_entry_from_raw(raw, source, None) for raw in raws)
    return Catalogue(tuple(with_prices(e) for e in entries) if prices else entries, source=source)


def load_catalogue(path: str | Path, *, prices: bool = True) -> Catalogue:
    """The catalogue in ``path`` (``.yaml``, ``.yml`` or ``.toml``); prices missing from the file are
    looked up in genai-prices unless ``prices=False``. Any problem → one-line :class:`CatalogueError`."""
    path = Path(path)
    fmt = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}.get(path.suffix.lower())
    if fmt is None:
        raise CatalogueError(f"{path}: a catalogue is a .yaml, .yml or .toml file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(f"{path}: no such catalogue file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot read the catalogue ({exc})") from None
    return parse_catalogue(text, fmt=fmt, source=str(path), base_dir=path.parent, prices=prices)


# -- prices ---------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=512)
def lookup_price(model: str, provider: str | None = None, base_url: str | None = None) -> tuple[float | None, float | None]:
    """Dollars per million (input, output) tokens of ``model`` from genai-prices (``None``: unknown).

    The provider is ``provider`` when given, else recognised from ``base_url``, else guessed by
    genai-prices from the model name. Base-tier prices (short prompts) of today's price.

    Example:
        >>> price_in, price_out = lookup_price("gpt-4o", "openai")
        >>> 0 < price_in < price_out
        True
        >>> lookup_price("no-such-model-anywhere", "openai")
        (None, None)
    """
    try:
        from genai_prices import Usage, calc_price
    except ImportError:
        return None, None
    per = 1000  # price 1000 tokens (base tier of tiered prices), scaled to a million

    def one(usage: Usage, part: str) -> float | None:
        try:
            if provider:
                calc = calc_price(usage, model_ref=model, provider_id=provider)
            elif base_url:
                calc = calc_price(usage, model_ref=model, provider_api_url=base_url)
            else:
                calc = calc_price(usage, model_ref=model)
        except (LookupError, ValueError):
            return None
        if getattr(calc.model_price, f"{part}_mtok", None) is None:
            return None
        return float(getattr(calc, f"{part}_price") * 1_000_000 / per)

    return one(Usage(input_tokens=per), "input"), one(Usage(output_tokens=per), "output")


def with_prices(entry: ModelEntry) -> ModelEntry:
    """``entry`` with prices filled from genai-prices when the catalogue gave none.

    An unknown price stays ``None`` with a :class:`PriceWarning` (never 0 dollars). Entries on a
    machine-local backend (:data:`UNPRICED_BACKENDS`) without a ``provider`` are not looked up.

    Example:
        >>> e = with_prices(ModelEntry("gpt-4o-mini", "openai", base_url="https://api.openai.com/v1", provider="openai"))
        >>> e.price_source, e.price_in is not None and e.price_in > 0
        ('genai-prices', True)
    """
    if entry.price_source == "catalogue":
        missing = [k for k in ("price_in", "price_out") if getattr(entry, k) is None]
        if missing:
            warnings.warn(f"model {entry.name!r}: no {missing[0]} in the catalogue; its dollars are unknown (—)",
                          PriceWarning, stacklevel=2)
        return entry
    if entry.backend in UNPRICED_BACKENDS and not entry.provider:
        return entry
    price_in, price_out = lookup_price(entry.model, entry.provider, entry.base_url)
    if price_in is None and price_out is None:
        where = f"provider {entry.provider!r}" if entry.provider else "any provider"
        warnings.warn(f"model {entry.name!r}: no price known for {entry.model!r} from {where} in genai-prices; "
                      "its dollars are unknown (—); set price_in/price_out in the catalogue", PriceWarning, stacklevel=2)
        return entry
    if price_in is None or price_out is None:
        warnings.warn(f"model {entry.name!r}: genai-prices knows only part of its price; the rest is unknown (—)",
                      PriceWarning, stacklevel=2)
    return replace(entry, price_in=price_in, price_out=price_out, price_source="genai-prices")


# -- built in -------------------------------------------------------------------------------------------------------

@functools.cache
def builtin_catalogue() -> Catalogue:
    """The models callscale knows without a file: the embedded SmolLM2 (the default) and the optional
    Gemma 3 270M (a base model for plain completions; opt-in: ``requires`` says how to get it).

    Example:
        >>> cat = builtin_catalogue()
        >>> cat.get("gemma3-270m").chat, cat.get("gemma3-270m").requires
        (False, 'make models')
    """
    smollm2 = ModelEntry(DEFAULT_MODEL, "local", params=SMOLLM2_CARD.params, context_length=SMOLLM2_CARD.context_length,
                         chat=SMOLLM2_CARD.chat)
    gemma = ModelEntry("gemma3-270m", "local", params=GEMMA_PARAMS, context_length=32768, chat=False, requires="make models")
    return Catalogue((smollm2, gemma), source="built-in")
