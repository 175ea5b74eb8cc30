"""Reading an LLM's reply to the agent searcher: guidelines, configurations, and their coercion.

Whatever comes back is parsed defensively (:func:`parse_response`): fenced or bare JSON, single
quotes, trailing commas and Python literals are tolerated, and several shapes of configuration are
understood. Each proposed configuration is then coerced (:func:`coerce_config`): model names are
matched loosely (``"Qwen2.5-72B-Instruct"`` → ``72B``, :func:`match_model`), sample counts are
clamped to the nearest candidate, and an over-budget configuration is repaired to the nearest one
within budget (:meth:`~callscale.search.space.Space.repair`) — or rejected when that is impossible
or repair is off. Nothing here raises on bad output.

Example:
    >>> from callscale.search.environments.simulated import agentts_space
    >>> reply = parse_response('Guidelines: big retriever. [{"retrieval": ["72B", 1], "qa": ["3B", 15]}]')
    >>> coerce_config(reply.items[0], agentts_space(), 900)[1]
    'valid'
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from callscale.search.budget import Number
from callscale.search.space import Choice, Config, Space


@dataclass(frozen=True)
class ParsedResponse:
    """Guideline text and raw configuration entries extracted from an LLM reply.

    ``items`` is None when no JSON could be recovered at all.

    Example:
        >>> ParsedResponse("go big", None).items is None
        True
    """

    guideline: str
    items: tuple[Any, ...] | None


_FENCE = re.compile(r"```(?:json|JSON|python)?\s*(.*?)```", re.S)


def _balanced_spans(text: str) -> list[str]:
    """Top-level ``[...]`` / ``{...}`` spans, string-aware, in order of appearance."""
    spans = []
    depth = 0
    start = -1
    quote = ""
    escape = False
    for i, ch in enumerate(text):
        if quote:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "\"'" and depth > 0:
            quote = ch
        elif ch in "[{":
            if depth == 0:
                start = i
            depth += 1
        elif ch in "]}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    return spans


def _loads(text: str) -> Any:
    """``json.loads`` with repairs: trailing commas, Python literals, single quotes, comments."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    cleaned = re.sub(r"//[^\n]*", "", text)
    cleaned = re.sub(r",\s*([\]}])", r"\1", cleaned)
    try:
        return json.loads(cleaned)
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(cleaned.replace("true", "True").replace("false", "False").replace("null", "None"))
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        pass
    try:
        return json.loads(cleaned.replace("'", '"'))
    except (ValueError, RecursionError):
        return None


def _as_items(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in ("configs", "configurations", "proposals", "candidates", "batch"):
            if isinstance(value.get(key), list):
                return list(value[key])
        return [value]
    return None


def parse_response(text: str) -> ParsedResponse:
    """Extract guidelines and configuration entries from an LLM reply (never raises).

    Example:
        >>> r = parse_response("Guidelines: go big.\\n```json\\n[{'retrieval': ['72B', 1],},]\\n```")
        >>> r.guideline, r.items
        ('go big.', ({'retrieval': ['72B', 1]},))
    """
    if not isinstance(text, str):
        return ParsedResponse("", None)
    match = re.search(r"guidelines?\s*[:\-]\s*(.*?)(?=```|\n\s*[\[{]|\Z)", text, re.I | re.S)
    guideline = match.group(1).strip() if match else ""
    if not guideline:
        head = re.split(r"```|[\[{]", text, maxsplit=1)[0].strip()
        guideline = head[:2000]
    candidates = [m.group(1) for m in _FENCE.finditer(text)]
    candidates += _balanced_spans(text)
    for cand in candidates:
        value = _loads(cand.strip())
        items = _as_items(value)
        if items is not None:
            return ParsedResponse(guideline[:4000], tuple(items))
    return ParsedResponse(guideline[:4000], None)


# ---------------------------------------------------------------------------------------------
# Coercion of one proposed configuration

VALID = "valid"
REPAIRED = "repaired"
UNKNOWN_MODEL = "unknown_model"
OVER_BUDGET = "over_budget"
INVALID = "invalid"

_MODEL_KEYS = ("model", "name", "model_name", "size", "m", "llm")
_SAMPLE_KEYS = ("samples", "num_samples", "n_samples", "sample", "n", "s", "k", "count", "repeats")


def match_model(value: Any, candidates: Sequence[tuple[str, int]]) -> str | None:
    """The candidate model meant by ``value`` (name, loose name, or a size such as ``"72b"``/``72``).

    Example:
        >>> cands = [("3B", 3_000_000_000), ("72B", 72_000_000_000)]
        >>> match_model("Qwen2.5-72B-Instruct", cands), match_model(3, cands), match_model("GPT-9", cands)
        ('72B', '3B', None)
    """
    if isinstance(value, bool) or value is None:
        return None
    names = [c[0] for c in candidates]
    if isinstance(value, int | float):
        target = float(value) * (1e9 if value < 1e6 else 1.0)
        best = min(candidates, key=lambda c: abs(math.log(max(c[1], 1)) - math.log(max(target, 1))))
        return best[0] if abs(best[1] - target) <= 0.05 * best[1] else None
    text = str(value).strip()
    if text in names:
        return text
    lowered = {n.lower(): n for n in names}
    if text.lower() in lowered:
        return lowered[text.lower()]
    norm = re.sub(r"[^a-z0-9.]", "", text.lower())
    for n in names:
        if re.sub(r"[^a-z0-9.]", "", n.lower()) == norm:
            return n
    sizes = re.findall(r"(\d+(?:\.\d+)?)\s*b\b", text.lower())
    for size in sizes:
        hit = match_model(float(size), candidates)
        if hit is not None:
            return hit
    contained = [n for n in names if re.search(r"(?<![a-z0-9.])" + re.escape(n.lower()) + r"(?![a-z0-9])", text.lower())]
    return contained[0] if len(contained) == 1 else None


def _stage_entry(value: Any) -> tuple[Any, Any] | None:
    """(model, samples) from one stage entry: dict, pair, or a string like ``"72B x 2"``."""
    if isinstance(value, Mapping):
        lowered = {str(k).lower(): v for k, v in value.items()}
        model = next((lowered[k] for k in _MODEL_KEYS if k in lowered), None)
        samples = next((lowered[k] for k in _SAMPLE_KEYS if k in lowered), None)
        return None if model is None else (model, samples if samples is not None else 1)
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, str):
        m = re.match(r"\s*(.+?)\s*(?:[x×*@,:]|with)\s*(\d+(?:\.\d+)?)\s*(?:samples?)?\s*$", value, re.I)
        if m:
            return m.group(1), m.group(2)
    return None


def _entries(item: Any, space: Space) -> list[tuple[Any, Any]] | None:
    names = [s.name for s in space.stages]
    if isinstance(item, Mapping):
        lowered = {str(k).lower(): v for k, v in item.items()}
        for key in ("config", "configuration", "stages", "allocation"):
            if key in lowered and not any(n.lower() in lowered for n in names):
                return _entries(lowered[key], space)
        if all(n.lower() in lowered for n in names):
            out = []
            for n in names:
                entry = _stage_entry(lowered[n.lower()])
                if entry is None:
                    return None
                out.append(entry)
            return out
        flat = []
        for n in names:
            model = next((lowered[f"{n.lower()}_{k}"] for k in _MODEL_KEYS if f"{n.lower()}_{k}" in lowered), None)
            samples = next((lowered[f"{n.lower()}_{k}"] for k in _SAMPLE_KEYS if f"{n.lower()}_{k}" in lowered), None)
            if model is None:
                return None
            flat.append((model, samples if samples is not None else 1))
        return flat
    if isinstance(item, list | tuple) and len(item) == len(names):
        out = []
        for v in item:
            entry = _stage_entry(v)
            if entry is None:
                return None
            out.append(entry)
        return out
    return None


def coerce_config(item: Any, space: Space, budget: Number, *, repair: bool = True) -> tuple[Config | None, str]:
    """Turn one proposed entry into a valid configuration within budget, or say why not.

    Returns ``(config, outcome)`` with outcome ``valid``, ``repaired`` (samples clamped or budget
    repaired), ``unknown_model``, ``over_budget`` or ``invalid``.

    Example:
        >>> from callscale.search.environments.simulated import agentts_space
        >>> space = agentts_space()
        >>> coerce_config({"retrieval": ["72B", 1], "qa": ["3B", 80]}, space, 900)
        (Config(choices=(Choice(model='72B', samples=1), Choice(model='3B', samples=50))), 'repaired')
        >>> coerce_config([["72B", 3], ["72B", 9]], space, 900, repair=False)[1]
        'over_budget'
    """
    entries = _entries(item, space)
    if entries is None:
        return None, INVALID
    choices = []
    changed = False
    for i, (model_value, samples_value) in enumerate(entries):
        stage = space.stages[i]
        model = match_model(model_value, [(m.name, m.params) for m in stage.models])
        if model is None:
            return None, UNKNOWN_MODEL
        try:
            raw = float(samples_value)
        except (TypeError, ValueError):
            return None, INVALID
        if not math.isfinite(raw):
            return None, INVALID
        samples = space.nearest_samples(i, round(raw))
        changed |= samples != raw
        choices.append(Choice(model, samples))
    config = Config(tuple(choices))
    if space.cost(config) <= Fraction(budget):
        return config, REPAIRED if changed else VALID
    if not repair:
        return None, OVER_BUDGET
    fixed = space.repair(config, budget)
    return (fixed, REPAIRED) if fixed is not None else (None, OVER_BUDGET)
