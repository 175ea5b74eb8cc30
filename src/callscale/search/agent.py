"""An AgentTTS-style searcher: an LLM reads the archive and the three findings, writes guidelines and
proposes configurations within budget.

The LLM is any plain callable ``llm(prompt: str) -> str``. :func:`build_prompt` renders the stages,
the budget and its formula, a cost table, the three findings, the archive (config, score, cost)
and the latest guidelines, and asks for ``Guidelines:`` text followed by a JSON list of
configurations. The prompt also carries the same facts as tagged JSON (``<space>``, ``<archive>``,
``<request>``) so that scripted stand-ins can read them.

Whatever comes back is parsed defensively (:func:`parse_response`): fenced or bare JSON, single
quotes, trailing commas and Python literals are tolerated, and several shapes of configuration are
understood. Each proposed configuration is then coerced (:func:`coerce_config`): model names are
matched loosely (``"Qwen2.5-72B-Instruct"`` → ``72B``), sample counts are clamped to the nearest
candidate, and an over-budget configuration is repaired to the nearest one within budget
(:meth:`~callscale.search.space.Space.repair`) — or rejected when that is impossible or repair is
off. Unknown models, malformed entries and duplicates are rejected. Everything is counted in
:class:`AgentStats`. When a reply yields nothing usable the searcher asks once more with the
problems listed, then falls back to random feasible configurations; it never raises on bad output
or on an exception from ``llm``.

:func:`heuristic_llm` is a deterministic rule-based stand-in for an LLM (finding-1 seeds, then local
moves around the best configurations); it is not a language model.

Example:
    >>> from callscale.search.simulated import AgentTTSBenchmark
    >>> bench = AgentTTSBenchmark()
    >>> agent = AgentSearcher(bench.space, 900, lambda prompt: "no idea")
    >>> proposals = agent.propose([], 2)
    >>> len(proposals), agent.stats.malformed, agent.stats.fallbacks
    (2, 2, 2)
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from callscale.search.archive import Trial
from callscale.search.base import Proposal, Searcher, tried_keys
from callscale.search.budget import AgentTTSCost, Number
from callscale.search.space import Choice, Config, Space

LLM = Callable[[str], str]

FINDINGS: dict[int, str] = {
    1: (
        "Finding 1 — stages prefer different model sizes: retrieval-like stages (long prompts, "
        "extracting evidence) do best with the largest affordable model and few samples; answer-"
        "generation stages (short prompts) do best with small models and many samples."
    ),
    2: (
        "Finding 2 — every stage has a best budget: quality rises with more samples, then plateaus or "
        "falls because the fusion call that merges the samples becomes the bottleneck. Do not spend "
        "budget past a stage's peak; move it to another stage."
    ),
    3: (
        "Finding 3 — stages interact: a weaker upstream stage (e.g. worse retrieval) moves the "
        "downstream optimum towards more samples; a stronger upstream stage needs fewer downstream "
        "samples."
    ),
}

_FORMAT_EXAMPLE = '{"<stage name>": {"model": "<model name>", "samples": <integer>}, ...}'


# ---------------------------------------------------------------------------------------------
# Prompt


def cost_table(space: Space) -> dict[str, dict[str, dict[str, float]]]:
    """Per stage and model: cost at the fewest samples and the cost of each extra sample.

    Example:
        >>> from callscale.search.simulated import agentts_space
        >>> cost_table(agentts_space())["retrieval"]["72B"]
        {'first': 814.0, 'per_extra_sample': 48.0}
    """
    out: dict[str, dict[str, dict[str, float]]] = {}
    for i, st in enumerate(space.stages):
        rows = {}
        for m in st.model_names:
            s0 = st.samples[0]
            first = space.stage_cost(i, Choice(m, s0))
            extra = space.stage_cost(i, Choice(m, s0 + 1)) - first
            rows[m] = {"first": round(float(first), 4), "per_extra_sample": round(float(extra), 4)}
        out[st.name] = rows
    return out


def build_prompt(
    space: Space,
    budget: Number,
    history: Sequence[Trial],
    n: int,
    *,
    findings: Iterable[int] = (1, 2, 3),
    max_rows: int = 60,
    feedback: str = "",
) -> str:
    """The agent prompt: task, budget, cost table, findings, archive, guidelines, output format.

    Example:
        >>> from callscale.search.simulated import agentts_space
        >>> p = build_prompt(agentts_space(), 900, [], 3)
        >>> "Finding 2" in p and "<request>" in p and "total cost <= 900" in p
        True
    """
    budget_f = float(budget)
    lines = [
        "You are optimising the test-time compute of a multi-stage LLM task.",
        "Each stage runs one model S times (repeated sampling) and fuses the S outputs with one more call",
        "of the same model. For every stage choose a model and a number of samples S; the total cost of",
        f"all stages must stay within the budget: total cost <= {budget_f:g}.",
        "",
        "Stages (in order):",
    ]
    for st in space.stages:
        models = ", ".join(f"{m.name} ({m.params / 1e9:g}B params)" for m in st.models)
        lines.append(
            f"- {st.name}: models {models}; samples {st.samples[0]}..{st.samples[-1]}; "
            f"prompt {st.prompt_tokens} tokens, output {st.decode_tokens} tokens per sample"
        )
    if isinstance(space.cost_model, AgentTTSCost):
        lines += [
            "",
            "Cost of one stage (FLOPs normalised to one 3B call with 128 prompt and 64 output tokens):",
            "B = [alpha * (N_prompt + S * N_output) - 128] / 64, alpha = params / 3e9.",
        ]
    else:
        lines += ["", f"Cost unit: {space.cost_model.unit}."]
    lines.append("Cost table (cost with the fewest samples, and the cost of each extra sample):")
    table = cost_table(space)
    for st in space.stages:
        cells = "; ".join(f"{m}: {c['first']:g} + {c['per_extra_sample']:g}/sample" for m, c in table[st.name].items())
        lines.append(f"- {st.name}: {cells}")
    chosen = [k for k in findings if k in FINDINGS]
    if chosen:
        lines += ["", "Prior knowledge from earlier studies:"]
        lines += [f"- {FINDINGS[k]}" for k in chosen]
    done = [t for t in history if t.done]
    lines += ["", f"Archive of evaluated configurations ({len(done)} so far, best first):"]
    ranked = sorted(done, key=lambda t: (-(t.score or 0.0), t.cost or 0.0, t.number))[:max_rows]
    if not ranked:
        lines.append("(empty — propose a diverse first batch guided by the findings)")
    for t in ranked:
        cfg = ", ".join(f"{st.name}={c.model}x{c.samples}" for st, c in zip(space.stages, t.config, strict=True))
        lines.append(f"#{t.number}: {cfg} -> score {float(t.score or 0.0):.4f}, cost {float(t.cost or 0.0):g}")
    last = next((t.guideline for t in reversed(history) if t.guideline), "")
    if last:
        lines += ["", "Your previous guidelines:", last]
    if feedback:
        lines += ["", "Problems with your previous answer:", feedback]
    lines += [
        "",
        "First write 'Guidelines:' followed by 2-5 sentences on what the archive shows (which model sizes",
        "each stage prefers, where returns stop growing, how upstream quality shifts downstream choices).",
        f"Then give exactly {n} new configurations that are not in the archive and fit the budget, as a",
        "JSON list inside ```json fences, each element shaped like",
        _FORMAT_EXAMPLE,
        "",
        "<space>" + json.dumps({**space.describe(), "costs": table}, separators=(",", ":")) + "</space>",
        "<archive>"
        + json.dumps(
            [{"config": space.named(t.config), "score": t.score, "cost": t.cost, "number": t.number} for t in done],
            separators=(",", ":"),
        )
        + "</archive>",
        "<request>" + json.dumps({"n": n, "budget": budget_f}) + "</request>",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Parsing


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
        >>> from callscale.search.simulated import agentts_space
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


# ---------------------------------------------------------------------------------------------
# The searcher


@dataclass(frozen=True)
class AgentStats:
    """What happened to the agent's LLM calls and proposals (a snapshot).

    Example:
        >>> AgentStats(unknown_model=1, duplicates=2).rejected
        3
    """

    calls: int = 0
    llm_errors: int = 0
    malformed: int = 0
    proposed: int = 0
    valid: int = 0
    repaired: int = 0
    unknown_model: int = 0
    over_budget: int = 0
    invalid: int = 0
    duplicates: int = 0
    fallbacks: int = 0

    @property
    def rejected(self) -> int:
        """Proposed entries that could not be used."""
        return self.unknown_model + self.over_budget + self.invalid + self.duplicates


@dataclass
class _Counters:
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AgentStats.__dataclass_fields__, 0))

    def add(self, key: str, k: int = 1) -> None:
        self.values[key] += k


class AgentSearcher(Searcher):
    """AgentTTS-style LLM-guided search.

    Args:
        space, budget, seed: as for every searcher.
        llm: ``llm(prompt) -> reply``; see :func:`heuristic_llm` for a deterministic stand-in.
        findings: which of the three findings to put in the prompt (ablations: drop some).
        repair: repair over-budget proposals (True) or reject them.
        attempts: LLM calls per proposal round before falling back to random configurations.

    Example:
        >>> from callscale.search.simulated import agentts_space
        >>> reply = 'Guidelines: big retriever.\\n[{"retrieval": {"model": "72B", "samples": 1},' \\
        ...         ' "qa": {"model": "3B", "samples": 15}}]'
        >>> agent = AgentSearcher(agentts_space(), 900, lambda p: reply)
        >>> p = agent.propose([], 1)[0]
        >>> p.config.key, p.guideline, agent.stats.valid
        ('[["72B",1],["3B",15]]', 'big retriever.', 1)
    """

    name = "agent"

    def __init__(
        self,
        space: Space,
        budget: Number,
        llm: LLM,
        *,
        seed: int = 0,
        findings: Iterable[int] = (1, 2, 3),
        repair: bool = True,
        attempts: int = 2,
        max_rows: int = 60,
    ) -> None:
        super().__init__(space, budget, seed=seed)
        self.llm = llm
        self.findings = tuple(findings)
        self.repair = repair
        self.attempts = max(1, attempts)
        self.max_rows = max_rows
        self._counts = _Counters()
        self.last_prompt = ""
        self.last_reply = ""

    @property
    def stats(self) -> AgentStats:
        """Counts of calls, parse failures, repairs, rejections and fallbacks so far."""
        return AgentStats(**self._counts.values)

    def prompt(self, history: Sequence[Trial], n: int, feedback: str = "") -> str:
        """The prompt this searcher sends for ``history`` and ``n``."""
        return build_prompt(
            self.space, self.budget, history, n, findings=self.findings, max_rows=self.max_rows, feedback=feedback
        )

    def propose(self, history: Sequence[Trial], n: int = 1) -> list[Proposal]:
        """Ask the LLM for ``n`` configurations; repair, filter, and fall back as needed."""
        if n <= 0:
            return []
        count = self._counts.add
        seen = tried_keys(history)
        out: list[Proposal] = []
        feedback = ""
        guideline = ""
        for _ in range(self.attempts):
            prompt = self.prompt(history, n - len(out), feedback)
            self.last_prompt = prompt
            count("calls")
            try:
                reply = self.llm(prompt)
                if not isinstance(reply, str):
                    raise TypeError(f"llm returned {type(reply).__name__}, not str")
            except Exception as exc:  # a broken backend must not stop the search
                count("llm_errors")
                feedback = f"(the previous call failed: {type(exc).__name__})"
                continue
            self.last_reply = reply
            parsed = parse_response(reply)
            guideline = parsed.guideline or guideline
            if parsed.items is None:
                count("malformed")
                feedback = "No JSON list of configurations could be read. Answer with a ```json``` list."
                continue
            problems = []
            for item in parsed.items:
                count("proposed")
                config, outcome = coerce_config(item, self.space, self.budget, repair=self.repair)
                if config is None:
                    count(outcome)
                    problems.append(f"{json.dumps(item, default=str)[:120]}: {outcome.replace('_', ' ')}")
                    continue
                if config.key in seen:
                    count("duplicates")
                    problems.append(f"{config.key}: already evaluated or repeated")
                    continue
                count(outcome)
                seen.add(config.key)
                out.append(Proposal(config, guideline))
                if len(out) == n:
                    return out
            feedback = "\n".join(problems[:10]) or f"Only {len(out)} of {n} configurations were usable."
        missing = n - len(out)
        if missing > 0:
            extra = self.random_unseen(history, missing, seen)
            count("fallbacks", len(extra))
            note = (guideline + " " if guideline else "") + "[random fallback: LLM output unusable]"
            out.extend(Proposal(c, note.strip()) for c in extra)
        return out


# ---------------------------------------------------------------------------------------------
# A deterministic rule-based stand-in for the LLM


def _tag(prompt: str, name: str) -> Any:
    m = re.search(rf"<{name}>(.*?)</{name}>", prompt, re.S)
    return json.loads(m.group(1)) if m else None


def heuristic_llm(prompt: str) -> str:
    """A deterministic, rule-based stand-in for an LLM (not a language model).

    Reads the ``<space>``, ``<archive>`` and ``<request>`` tags of :func:`build_prompt`. With an
    empty archive it proposes finding-1 configurations (the largest affordable models first, the
    smallest models with 4, 16, 2, 32, 8 samples after); otherwise local moves around the best configurations — sample counts
    ±1, ±2, ×1.5, ×2, ÷2 and one model size up or down per stage — keeping its own estimate of cost
    within budget.

    Example:
        >>> from callscale.search.simulated import agentts_space
        >>> reply = heuristic_llm(build_prompt(agentts_space(), 900, [], 2))
        >>> reply.startswith("Guidelines:"), len(parse_response(reply).items)
        (True, 2)
    """
    space = _tag(prompt, "space")
    archive = _tag(prompt, "archive") or []
    request = _tag(prompt, "request") or {}
    if not space:
        return "Guidelines: no space description found.\n[]"
    n = int(request.get("n", 1))
    budget = float(request.get("budget", math.inf))
    stages = space["stages"]
    costs = space.get("costs", {})

    def cost(cfg: list[tuple[str, int]]) -> float:
        total = 0.0
        for st, (m, s) in zip(stages, cfg, strict=True):
            c = costs.get(st["name"], {}).get(m, {"first": 0.0, "per_extra_sample": 0.0})
            total += c["first"] + (s - st["samples"][0]) * c["per_extra_sample"]
        return total

    sizes = [[m["name"] for m in sorted(st["models"], key=lambda m: m["params"])] for st in stages]
    tried = {
        json.dumps([[st["name"], e["config"][st["name"]]["model"], e["config"][st["name"]]["samples"]] for st in stages])
        for e in archive
    }

    def key(cfg: list[tuple[str, int]]) -> str:
        return json.dumps([[st["name"], m, s] for st, (m, s) in zip(stages, cfg, strict=True)])

    picks: list[list[tuple[str, int]]] = []

    def offer(cfg: list[tuple[str, int]]) -> None:
        fixed = []
        for st, (m, s) in zip(stages, cfg, strict=True):
            lo, hi = st["samples"][0], st["samples"][-1]
            fixed.append((m, int(min(max(s, lo), hi))))
        k = key(fixed)
        if k not in tried and cost(fixed) <= budget + 1e-9 and all(key(p) != k for p in picks):
            picks.append(fixed)

    if not archive:
        rest_min = [
            sum(costs[st["name"]][sizes[j][0]]["first"] for j, st in enumerate(stages) if j != i) for i in range(len(stages))
        ]
        for down in (4, 16, 2, 32, 8):
            for up_rank in (1, 2, 3):
                cfg = []
                for i, _st in enumerate(stages):
                    if i == 0:
                        affordable = [m for m in sizes[0] if costs[stages[0]["name"]][m]["first"] + rest_min[0] <= budget]
                        cfg.append((affordable[-min(up_rank, len(affordable))] if affordable else sizes[0][0], 1))
                    else:
                        cfg.append((sizes[i][0], down))
                offer(cfg)
        text = (
            "Guidelines: start from finding 1 — the largest affordable retriever with one sample, "
            "small answer models with a few samples."
        )
    else:
        ranked = sorted(archive, key=lambda e: (-(e["score"] or 0.0), e["cost"] or 0.0))
        for parent in ranked[:3]:
            base = [(parent["config"][st["name"]]["model"], parent["config"][st["name"]]["samples"]) for st in stages]
            for i in reversed(range(len(stages))):
                m, s = base[i]
                for new_s in (s + 1, s - 1, s + 2, s - 2, round(s * 1.5), s // 2, s * 2):
                    if new_s >= 1:
                        offer([*base[:i], (m, new_s), *base[i + 1 :]])
                pos = sizes[i].index(m)
                for new_pos in (pos - 1, pos + 1):
                    if 0 <= new_pos < len(sizes[i]):
                        offer([*base[:i], (sizes[i][new_pos], s), *base[i + 1 :]])
            if len(picks) >= n:
                break
        best = ranked[0]
        desc = ", ".join(
            f"{st['name']}={best['config'][st['name']]['model']}x{best['config'][st['name']]['samples']}" for st in stages
        )
        text = (
            f"Guidelines: the best so far is {desc} (score {best['score']:.4f}); refine sample counts "
            "around it, one stage at a time, and try neighbouring model sizes."
        )
    body = [{st["name"]: {"model": m, "samples": s} for st, (m, s) in zip(stages, cfg, strict=True)} for cfg in picks[:n]]
    return text + "\n```json\n" + json.dumps(body) + "\n```"
