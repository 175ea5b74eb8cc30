"""A user's own network as a search space: nodes declare the models and sample counts to choose from.

In a network file (YAML/TOML, see :func:`callscale.networks.load_network`), a node's ``model`` and
``k`` may be a choice instead of a value::

    name: draft-then-fuse
    search: {prompt_tokens: 60, answer_tokens: 12}   # optional: token sizes the budget is priced at
    nodes:
      - {id: draft, op: sample, model: {choose: [smollm2-135m-instruct, gemma3-270m]}, k: {choose: [1, 2, 4, 8]}}
      - {id: pick, op: fuse, model: {choose: [smollm2-135m-instruct, gemma3-270m]}, inputs: [draft]}

A route node's specialists may choose their models too
(``specialists: {physics: {model: {choose: [a, b]}, system: "You are an expert in physics."}}``):
each such specialist is a stage of its own, named ``route.physics``.

Every node with a choice is one *stage* of a :class:`~callscale.search.space.Space`: its candidate
models (the node's model when it is not searched) and sample counts (``k``; 1 for ops without one).
A :class:`~callscale.search.space.Config` picks one (model, samples) per stage and
:meth:`SearchableNetwork.network` builds that network, checked like any network file.

The budget prices a configuration's *declared* cost per item (:meth:`callscale.networks.Network.cost`
at the token sizes of ``search``) in m·n, FLOPs or dollars with the models' catalogue cards
(:class:`NetworkCost`). A space's cost is a sum over stages, so each node's declared cost is split
over the stages whose choices change it: exactly when it is a sum of one term per stage (a vote after
a searched sample; a route whose specialists' models are searched — each answers a share of the
items), otherwise charged to one of them with the others at their dearest options (a judge whose
model and whose input's k are both searched: the budget then bounds the cost from above). :meth:`NetworkCost.exact` gives
any configuration's exact declared cost, and searches report it beside the cost measured by the ledger.

Example:
    >>> raw = {"name": "n", "nodes": [
    ...     {"id": "draft", "op": "sample", "model": {"choose": ["a", "b"]}, "k": {"choose": [1, 4]}},
    ...     {"id": "vote", "op": "vote", "inputs": ["draft"]}]}
    >>> net = SearchableNetwork.from_dict(raw)
    >>> [(s.node, s.models, s.samples) for s in net.stages]
    [('draft', ('a', 'b'), (1, 4))]
    >>> from callscale.search.space import Config
    >>> net.network(Config.of(("b", 4))).nodes[0].k
    4
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from callscale.costs import dollars
from callscale.networks import MODEL_FIELDS, Network, NetworkError, network_from_dict, read_network_file
from callscale.records import ModelCard
from callscale.search.space import Config, Space, Stage
from callscale.structure import Cost

UNITS = ("primitive", "flops", "dollars")
"""What a network search's budget is measured in: m·n, FLOPs (2·m per token) or dollars, per item."""
SEARCH_FIELDS = {"prompt_tokens": 60, "answer_tokens": 16}
"""The optional top-level ``search`` section: token sizes the declared cost is priced at (defaults)."""
JUDGE_OVERHEAD_TOKENS = 40
"""Tokens a judging/fusing/routing prompt adds to the question (instructions), for the declared cost."""


class NoChoices(NetworkError):
    """A valid network file that declares no choice (a plain network)."""


@dataclass(frozen=True)
class SearchedNode:
    """One searched node (or one ``specialist`` of a route node): its candidate models and sample
    counts (``has_k``: whether ``k`` is a field)."""

    node: str
    models: tuple[str, ...]
    samples: tuple[int, ...]
    has_k: bool
    specialist: str | None = None

    @property
    def name(self) -> str:
        """The stage's name: the node's id, or ``node.specialist``."""
        return self.node if self.specialist is None else f"{self.node}.{self.specialist}"


def _choices(value: Any, where: str, *, integer: bool) -> tuple[Any, ...] | None:
    """The candidates of a field written as ``{choose: [...]}`` or ``{range: [lo, hi]}``; None for a plain value."""
    if not isinstance(value, Mapping):
        return None
    keys = set(value)
    if keys == {"choose"}:
        raw = value["choose"]
        if not isinstance(raw, list) or not raw:
            raise NetworkError(f"{where}: 'choose' must be a non-empty list, got {raw!r}")
        out = tuple(raw)
    elif keys == {"range"} and integer:
        raw = value["range"]
        if (not isinstance(raw, list) or len(raw) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                  for v in raw) or raw[0] > raw[1]):
            raise NetworkError(f"{where}: 'range' must be [low, high] integers with low ≤ high, got {raw!r}")
        out = tuple(range(raw[0], raw[1] + 1))
    else:
        allowed = "'choose: [...]' or 'range: [low, high]'" if integer else "'choose: [...]'"
        raise NetworkError(f"{where}: a choice is written {allowed}, got {dict(value)!r}")
    if len(set(map(repr, out))) != len(out):
        raise NetworkError(f"{where}: candidates repeat, got {list(out)!r}")
    return out


@dataclass(frozen=True)
class SearchableNetwork:
    """A network file with choices (see module docstring); ``raw`` is the file's data, ``stages`` its searched nodes."""

    raw: Mapping[str, Any]
    source: str
    stages: tuple[SearchedNode, ...]
    prompt_tokens: int
    answer_tokens: int

    @classmethod
    def load(cls, path: str | Path, *, default_model: str | None = None) -> SearchableNetwork:
        """Read and check a network file with choices (errors name the file, node and field)."""
        return cls.from_dict(read_network_file(path), source=str(path), default_model=default_model)

    @classmethod
    def from_dict(cls, raw: Any, *, source: str = "<network>", default_model: str | None = None) -> SearchableNetwork:
        """Check ``raw`` (parsed YAML/TOML) whole: the choices, and that every candidate builds a valid network."""
        if not isinstance(raw, Mapping):
            raise NetworkError(f"{source}: expected a mapping with 'nodes' or 'stages'")
        data = copy.deepcopy(dict(raw))
        search = data.pop("search", None) or {}
        if not isinstance(search, Mapping) or set(search) - set(SEARCH_FIELDS):
            raise NetworkError(f"{source}: field 'search' may set only {sorted(SEARCH_FIELDS)}, got {search!r}")
        sizes = {**SEARCH_FIELDS, **search}
        for key, value in sizes.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise NetworkError(f"{source}: field 'search.{key}' must be an integer ≥ 0, got {value!r}")
        defaults = data.get("defaults") or {}
        if isinstance(defaults, Mapping):
            for key, value in defaults.items():
                if isinstance(value, Mapping) and key in (*MODEL_FIELDS, "k"):
                    raise NetworkError(f"{source}: field 'defaults.{key}': choices go on the nodes, not in 'defaults'")
        listed = "stages" if "stages" in data else "nodes"
        entries = data.get(listed)
        stages: list[SearchedNode] = []
        for position, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, Mapping):
                continue  # network_from_dict names the problem below
            where = f"{source}: {listed}[{position}] ({entry.get('id')})"
            stage = cls._searched(entry, where, defaults if isinstance(defaults, Mapping) else {}, default_model)
            if stage is not None:
                stages.append(stage)
            stages += cls._specialists(entry, where)
        out = cls(data, source, tuple(stages), sizes["prompt_tokens"], sizes["answer_tokens"])
        if not stages:
            network_from_dict(data, source=source, default_model=default_model)  # a plain file: its own errors first
            raise NoChoices(f"{source}: no node declares a choice; write a node's model as "
                               "{choose: [model-a, model-b]} or its k as {choose: [1, 2, 4]} (or {range: [1, 8]})")
        out._check_all(default_model)
        return out

    @staticmethod
    def _searched(entry: Mapping[str, Any], where: str, defaults: Mapping[str, Any],
                  default_model: str | None) -> SearchedNode | None:
        for name, value in entry.items():
            if isinstance(value, Mapping) and name in MODEL_FIELDS and name != "model":
                raise NetworkError(f"{where}: field {name!r}: only 'model' and 'k' may be choices")
        models = _choices(entry.get("model"), f"{where}: field 'model'", integer=False)
        samples = _choices(entry.get("k"), f"{where}: field 'k'", integer=True)
        if models is None and samples is None:
            return None
        if models is not None and not all(isinstance(m, str) and m for m in models):
            raise NetworkError(f"{where}: field 'model': candidates must be model names, got {list(models)!r}")
        if samples is not None and not all(isinstance(s, int) and not isinstance(s, bool) for s in samples):
            raise NetworkError(f"{where}: field 'k': candidates must be integers, got {list(samples)!r}")
        if models is None:
            fixed = entry.get("model", defaults.get("model", default_model))
            models = (fixed,) if isinstance(fixed, str) and fixed else ()
            if not models:
                raise NetworkError(f"{where}: missing 'model' (set it on the node or in 'defaults')")
        has_k = "k" in entry or "k" in defaults
        if samples is None:
            k = entry.get("k", defaults.get("k", 1))
            samples = (k,) if isinstance(k, int) else (1,)
        return SearchedNode(str(entry.get("id")), tuple(models), tuple(sorted(samples)), has_k)

    @staticmethod
    def _specialists(entry: Mapping[str, Any], where: str) -> list[SearchedNode]:
        """A route node's specialists whose model is a choice (``specialists: {math: {model: {choose: [...]}}}``)."""
        found = []
        specialists = entry.get("specialists")
        for name, spec in (specialists.items() if isinstance(specialists, Mapping) else ()):
            raw = spec if isinstance(spec, Mapping) and not ({"choose", "range"} & set(spec)) else {"model": spec}
            label = f"{where}: field 'specialists.{name}.model'"
            models = _choices(raw.get("model"), label, integer=False)
            if models is None:
                continue
            if not all(isinstance(m, str) and m for m in models):
                raise NetworkError(f"{label}: candidates must be model names, got {list(models)!r}")
            found.append(SearchedNode(str(entry.get("id")), tuple(models), (1,), False, str(name)))
        return found

    def _check_all(self, default_model: str | None) -> None:
        """Every candidate of every stage, with the other stages at their first option, builds a valid network."""
        first = [(s.models[0], s.samples[0]) for s in self.stages]
        for i, stage in enumerate(self.stages):
            for model, samples in itertools.product(stage.models, stage.samples):
                picks = list(first)
                picks[i] = (model, samples)
                self.network(Config.of(*picks), default_model=default_model)

    @property
    def name(self) -> str:
        """The network's name (its ``name`` field, else the file's stem)."""
        return str(self.raw.get("name") or Path(self.source).stem)

    @property
    def fingerprint(self) -> str:
        """The name and a short hash of the file's content (with its choices): equal files, equal fingerprints."""
        text = json.dumps(self.raw, sort_keys=True, default=str)
        return f"{self.name}:{hashlib.sha256(text.encode()).hexdigest()[:10]}"

    def models(self) -> tuple[str, ...]:
        """Every model any configuration may call (candidates and fixed models), in order of appearance."""
        names: list[str] = []
        for stage in self.stages:
            names += stage.models
        entries = self.raw.get("stages") or self.raw.get("nodes") or []
        defaults = self.raw.get("defaults") or {}
        for entry in entries:
            for field_name in MODEL_FIELDS:
                value = entry.get(field_name, defaults.get(field_name) if field_name == "model" else None)
                if isinstance(value, str):
                    names.append(value)
            for spec in (entry.get("specialists") or {}).values():
                model = spec.get("model") if isinstance(spec, Mapping) else spec
                if isinstance(model, str):
                    names.append(model)
        return tuple(dict.fromkeys(names))

    def network(self, config: Config, *, default_model: str | None = None) -> Network:
        """The network of ``config`` (one (model, samples) choice per stage, in stage order)."""
        if len(config) != len(self.stages):
            raise ValueError(f"config has {len(config)} choices, the network searches {len(self.stages)} nodes")
        data = copy.deepcopy(dict(self.raw))
        listed = "stages" if "stages" in data else "nodes"
        entries = {entry.get("id"): entry for entry in data[listed] if isinstance(entry, dict)}
        for stage, choice in zip(self.stages, config, strict=True):
            entry = entries[stage.node]
            if stage.specialist is not None:
                spec = entry["specialists"][stage.specialist]
                if isinstance(spec, dict) and "model" in spec:
                    spec["model"] = choice.model
                else:
                    entry["specialists"][stage.specialist] = choice.model
            else:
                entry["model"] = choice.model
                if stage.has_k:
                    entry["k"] = choice.samples
        data["name"] = f"{self.name}[{self.label(config)}]"
        return network_from_dict(data, source=self.source, default_model=default_model)

    def configurations(self, *, fixed_k: bool = False) -> list[Config]:
        """Every configuration (all choices crossed), in order; with ``fixed_k``, each node's first ``k``
        only (when another axis varies ``k``).

        Example:
            >>> net = SearchableNetwork.from_dict({"stages": [
            ...     {"id": "s", "op": "sample", "model": {"choose": ["a", "b"]}, "k": {"choose": [1, 3]}},
            ...     {"id": "v", "op": "vote"}]})
            >>> [c.key for c in net.configurations(fixed_k=True)]
            ['[["a",1]]', '[["b",1]]']
        """
        options = [[(m, k) for m in s.models for k in (s.samples[:1] if fixed_k else s.samples)] for s in self.stages]
        return [Config.of(*picks) for picks in itertools.product(*options)]

    def label(self, config: Config) -> str:
        """A configuration in words, e.g. ``draft=gemma3-270m×4, pick=smollm2-135m-instruct``."""
        return ", ".join(f"{s.name}={c.model}" + (f"×{c.samples}" if s.has_k else "")
                         for s, c in zip(self.stages, config, strict=True))

    def sizes(self) -> defaultdict[str, Any]:
        """The token sizes the declared cost is priced at (names the primitives' cost formulas read)."""
        p, a = self.prompt_tokens, self.answer_tokens
        out: defaultdict[str, Any] = defaultdict(int)
        out.update(prompt=p, answer=a, judge_prompt=p + JUDGE_OVERHEAD_TOKENS, route_prompt=p + JUDGE_OVERHEAD_TOKENS,
                   route_answer=4)
        return out

    def space(self, cards: Mapping[str, ModelCard], unit: str = "primitive") -> Space:
        """The search space, priced per item in ``unit`` with ``cards`` (every model of :meth:`models`)."""
        cost = NetworkCost(self, cards, unit)
        stages = tuple(Stage(s.name, tuple(cards[m] for m in s.models), s.samples, self.prompt_tokens,
                             self.answer_tokens) for s in self.stages)
        return Space(stages, cost)


def price(cost: Cost, cards: Mapping[str, ModelCard], unit: str) -> Fraction:
    """A declared :class:`~callscale.structure.Cost` in ``unit`` (m·n, FLOPs or dollars) with ``cards``.

    Example:
        >>> c = Cost.of("m", calls=2, prompt_tokens=20, completion_tokens=4)
        >>> price(c, {"m": ModelCard("m", 10)}, "primitive"), price(c, {"m": ModelCard("m", 10)}, "flops")
        (Fraction(240, 1), Fraction(480, 1))
    """
    if unit not in UNITS:
        raise ValueError(f"unknown budget unit {unit!r}; choose one of {', '.join(UNITS)}")
    total = Fraction(0)
    for model, group in cost.by_model().items():
        card = cards[model]
        prompt, completion = int(group.prompt_tokens), int(group.completion_tokens)
        if unit == "dollars":
            if dollars(prompt, completion, card.price_in_per_mtok, card.price_out_per_mtok) is None:
                raise ValueError(f"model {model!r} has no price; give price_in/price_out in the catalogue, or "
                                 "price the budget in flops or primitive")
            # the same formula as costs.dollars, in exact arithmetic so that sums do not depend on their order
            total += (prompt * Fraction(str(card.price_in_per_mtok)) + completion * Fraction(str(card.price_out_per_mtok))
                      ) / 1_000_000
        else:
            if not card.params:
                raise ValueError(f"model {model!r} has no parameter count; give params in the catalogue, or price "
                                 "the budget in dollars")
            total += Fraction(card.params * (prompt + completion) * (2 if unit == "flops" else 1))
    return total


def node_owners(network: Network, searched: Sequence[str]) -> dict[str, int]:
    """Which stage each node's declared cost is charged to: its own if searched, else the nearest
    searched node it reads (breadth first), else stage 0.

    Example:
        >>> from callscale.networks import vote_network
        >>> node_owners(vote_network("m", 3), ["generate"])
        {'generate': 0, 'vote': 0}
    """
    index: dict[str, int] = {}
    for i, node_id in enumerate(searched):
        index.setdefault(node_id, i)  # a node searched in several ways (a route's specialists): its first stage
    by_id = {node.id: node for node in network.nodes}
    out: dict[str, int] = {}
    for node in network.nodes:
        queue, seen = [node.id], set()
        owner = 0
        while queue:
            current = queue.pop(0)
            if current in index:
                owner = index[current]
                break
            seen.add(current)
            queue += [s for s in by_id[current].inputs if s not in seen]
        out[node.id] = owner
    return out


Pick = tuple[str, int]
MAX_JOINT = 512
"""Most joint options of the stages one node depends on that :class:`NetworkCost` checks exhaustively."""


class NetworkCost:
    """Prices a searchable network's stages per item in ``unit``: each node's declared cost is split
    over the stages it depends on — exactly when it is a sum of one term per stage (a vote after a
    searched sample, a route's specialists), else charged to one of them at the dearest options of
    the others (an upper bound; see the module docstring)."""

    def __init__(self, searchable: SearchableNetwork, cards: Mapping[str, ModelCard], unit: str) -> None:
        if unit not in UNITS:
            raise ValueError(f"unknown budget unit {unit!r}; choose one of {', '.join(UNITS)}")
        self.searchable, self.cards, self._unit = searchable, dict(cards), unit
        self._sizes = searchable.sizes()
        self._memo: dict[tuple[Pick, ...], dict[str, Fraction]] = {}
        stages = searchable.stages
        self._options: list[list[Pick]] = [list(itertools.product(s.models, s.samples)) for s in stages]
        first = tuple(opts[0] for opts in self._options)
        self._table: dict[tuple[int, str, int], Fraction] = {
            (i, *o): Fraction(0) for i, opts in enumerate(self._options) for o in opts}
        base = self._node_costs(first)
        owners = node_owners(searchable.network(Config.of(*first)), [s.node for s in stages])
        for node_id in base:
            deps = [j for j, opts in enumerate(self._options)
                    if any(self._node_costs(_with(first, j, o))[node_id] != base[node_id] for o in opts[1:])]
            self._charge(node_id, deps, first, owners[node_id])

    def _charge(self, node_id: str, deps: list[int], first: tuple[Pick, ...], owner: int) -> None:
        """Add ``node_id``'s cost into the stage table (see the class docstring)."""
        def cost(picks: tuple[Pick, ...]) -> Fraction:
            return self._node_costs(picks)[node_id]

        if not deps:
            for o in self._options[owner]:
                self._table[(owner, *o)] += cost(first)
            return
        # per dependency its cheapest option (the others at their first): a sum of per-stage terms is
        # then split exactly, each term ≥ 0
        ref = list(first)
        for j in deps:
            alone = {o: cost(_with(first, j, o)) for o in self._options[j]}
            ref[j] = min(self._options[j], key=alone.__getitem__)
        anchor = cost(tuple(ref))
        terms = {j: {o: cost(_with(tuple(ref), j, o)) - anchor for o in self._options[j]} for j in deps}
        joint = list(itertools.product(*(self._options[j] for j in deps)))
        additive = len(joint) <= MAX_JOINT and all(
            cost(_with_many(tuple(ref), deps, combo)) == anchor + sum(terms[j][o] for j, o in zip(deps, combo, strict=True))
            for combo in joint)
        if additive:
            for j in deps:
                for o in self._options[j]:
                    self._table[(j, *o)] += terms[j][o] + (anchor if j == deps[0] else 0)
            return
        target = owner if owner in deps else deps[0]
        others = [j for j in deps if j != target]
        for o in self._options[target]:
            picks = _with(tuple(ref), target, o)
            self._table[(target, *o)] += max(cost(_with_many(picks, others, combo))
                                             for combo in itertools.product(*(self._options[j] for j in others)))

    def _node_costs(self, picks: tuple[Pick, ...]) -> dict[str, Fraction]:
        """Each node's priced declared cost for one configuration (memoised)."""
        if picks not in self._memo:
            network = self.searchable.network(Config.of(*picks))
            self._memo[picks] = {node_id: price(cost, self.cards, self._unit)
                                 for node_id, cost in network.node_costs(self._sizes).items()}
        return self._memo[picks]

    @property
    def unit(self) -> str:
        """Budget unit name."""
        return self._unit

    def stage_cost(self, stage: Stage, model: ModelCard, samples: int) -> Fraction:
        """The cost charged to ``stage`` when it runs ``model`` with ``samples`` samples."""
        index = next(i for i, s in enumerate(self.searchable.stages) if s.name == stage.name)
        key = (index, model.name, samples)
        if key not in self._table:
            raise KeyError(f"({model.name}, {samples}) is not a candidate of node {stage.name!r}")
        return self._table[key]

    def exact(self, config: Config) -> Fraction:
        """The exact declared cost per item of ``config`` (≤ the space's cost of it)."""
        return sum(self._node_costs(tuple((c.model, c.samples) for c in config)).values(), Fraction(0))


def _with(picks: tuple[Pick, ...], index: int, option: Pick) -> tuple[Pick, ...]:
    return (*picks[:index], option, *picks[index + 1:])


def _with_many(picks: tuple[Pick, ...], indices: Sequence[int], options: Sequence[Pick]) -> tuple[Pick, ...]:
    out = list(picks)
    for i, o in zip(indices, options, strict=True):
        out[i] = o
    return tuple(out)
