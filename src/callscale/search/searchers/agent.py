"""An AgentTTS-style searcher: an LLM reads the archive and the three findings, writes guidelines and
proposes configurations within budget.

The LLM is any plain callable ``llm(prompt: str) -> str``. :func:`build_prompt` renders the stages,
the budget and its formula, a cost table, the three findings, the archive (config, score, cost)
and the latest guidelines, and asks for ``Guidelines:`` text followed by a JSON list of
configurations. The prompt also carries the same facts as tagged JSON (``<space>``, ``<archive>``,
``<request>``) so that scripted stand-ins can read them.

The reply is read defensively and each proposed configuration coerced into the space and budget
(:mod:`.agent_reply`: loose model names, clamped sample counts, over-budget proposals repaired).
Unknown models, malformed entries and duplicates are rejected. Everything is counted in
:class:`AgentStats`. When a reply yields nothing usable the searcher asks once more with the
problems listed, then falls back to random feasible configurations; it never raises on bad output
or on an exception from ``llm``.

:func:`~callscale.search.searchers.agent_rules.heuristic_llm` is a deterministic rule-based
stand-in for an LLM (finding-1 seeds, then local moves around the best configurations); it is not a
language model.

Example:
    >>> from callscale.search.environments.simulated import AgentTTSBenchmark
    >>> bench = AgentTTSBenchmark()
    >>> agent = AgentSearcher(bench.space, 900, lambda prompt: "no idea")
    >>> proposals = agent.propose([], 2)
    >>> len(proposals), agent.stats.malformed, agent.stats.fallbacks
    (2, 2, 2)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from callscale.search.archive import Trial
from callscale.search.base import SEED, Option, Proposal, Searcher, parse_bool, parse_ints, tried_keys
from callscale.search.budget import Number
from callscale.search.searchers.agent_reply import coerce_config, parse_response
from callscale.search.space import AgentTTSCost, Choice, Space

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
        >>> from callscale.search.environments.simulated import agentts_space
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
        >>> from callscale.search.environments.simulated import agentts_space
        >>> p = build_prompt(agentts_space(), 900, [], 3)
        >>> "Finding 2" in p and "<request>" in p and "total cost <= 900" in p
        True
    """
    budget_f = float(budget)
    table = cost_table(space)
    done = [t for t in history if t.done]
    lines = [*_task_lines(space, budget_f, table), *_findings_lines(findings)]
    lines += _archive_lines(space, history, done, max_rows)
    if feedback:
        lines += ["", "Problems with your previous answer:", feedback]
    lines += _request_lines(space, budget_f, table, done, n)
    return "\n".join(lines)


def _task_lines(space: Space, budget: float, table: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """The task, the stages, the cost formula and the cost table."""
    lines = [
        "You are optimising the test-time compute of a multi-stage LLM task.",
        "Each stage runs one model S times (repeated sampling) and fuses the S outputs with one more call",
        "of the same model. For every stage choose a model and a number of samples S; the total cost of",
        f"all stages must stay within the budget: total cost <= {budget:g}.",
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
    for st in space.stages:
        cells = "; ".join(f"{m}: {c['first']:g} + {c['per_extra_sample']:g}/sample" for m, c in table[st.name].items())
        lines.append(f"- {st.name}: {cells}")
    return lines


def _findings_lines(findings: Iterable[int]) -> list[str]:
    chosen = [k for k in findings if k in FINDINGS]
    if not chosen:
        return []
    return ["", "Prior knowledge from earlier studies:", *[f"- {FINDINGS[k]}" for k in chosen]]


def _archive_lines(space: Space, history: Sequence[Trial], done: list[Trial], max_rows: int) -> list[str]:
    """The evaluated configurations, best first, and the latest guidelines."""
    lines = ["", f"Archive of evaluated configurations ({len(done)} so far, best first):"]
    ranked = sorted(done, key=lambda t: (-(t.score or 0.0), t.cost or 0.0, t.number))[:max_rows]
    if not ranked:
        lines.append("(empty — propose a diverse first batch guided by the findings)")
    for t in ranked:
        cfg = ", ".join(f"{st.name}={c.model}x{c.samples}" for st, c in zip(space.stages, t.config, strict=True))
        lines.append(f"#{t.number}: {cfg} -> score {float(t.score or 0.0):.4f}, cost {float(t.cost or 0.0):g}")
    last = next((t.guideline for t in reversed(history) if t.guideline), "")
    if last:
        lines += ["", "Your previous guidelines:", last]
    return lines


def _request_lines(space: Space, budget: float, table: dict[str, dict[str, dict[str, float]]], done: list[Trial],
                   n: int) -> list[str]:
    """What to answer and in which format, then the facts as tagged JSON."""
    archive = [{"config": space.named(t.config), "score": t.score, "cost": t.cost, "number": t.number} for t in done]
    return [
        "",
        "First write 'Guidelines:' followed by 2-5 sentences on what the archive shows (which model sizes",
        "each stage prefers, where returns stop growing, how upstream quality shifts downstream choices).",
        f"Then give exactly {n} new configurations that are not in the archive and fit the budget, as a",
        "JSON list inside ```json fences, each element shaped like",
        _FORMAT_EXAMPLE,
        "",
        "<space>" + json.dumps({**space.describe(), "costs": table}, separators=(",", ":")) + "</space>",
        "<archive>" + json.dumps(archive, separators=(",", ":")) + "</archive>",
        "<request>" + json.dumps({"n": n, "budget": budget}) + "</request>",
    ]


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
        llm: ``llm(prompt) -> reply``; see :func:`~callscale.search.searchers.agent_rules.heuristic_llm`
            for a deterministic stand-in.
        findings: which of the three findings to put in the prompt (ablations: drop some).
        repair: repair over-budget proposals (True) or reject them.
        attempts: LLM calls per proposal round before falling back to random configurations.

    Example:
        >>> from callscale.search.environments.simulated import agentts_space
        >>> reply = 'Guidelines: big retriever.\\n[{"retrieval": {"model": "72B", "samples": 1},' \\
        ...         ' "qa": {"model": "3B", "samples": 15}}]'
        >>> agent = AgentSearcher(agentts_space(), 900, lambda p: reply)
        >>> p = agent.propose([], 1)[0]
        >>> p.config.key, p.guideline, agent.stats.valid
        ('[["72B",1],["3B",15]]', 'big retriever.', 1)
    """

    name = "agent"
    options = (
        Option("llm", help="the language model, a function prompt -> reply"),
        SEED,
        Option("findings", (1, 2, 3), "which of the three findings the prompt states (e.g. 1,3)", parse_ints),
        Option("repair", True, "repair over-budget proposals (false: reject them)", parse_bool),
        Option("attempts", 2, "LLM calls per round before falling back to random configurations", int),
        Option("max_rows", 60, "archive rows shown in the prompt", int),
    )

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
        seen = tried_keys(history)
        out: list[Proposal] = []
        feedback = ""
        guideline = ""
        for _ in range(self.attempts):
            reply = self._ask(history, n - len(out), feedback)
            if isinstance(reply, Exception):
                feedback = f"(the previous call failed: {type(reply).__name__})"
                continue
            parsed = parse_response(reply)
            guideline = parsed.guideline or guideline
            if parsed.items is None:
                self._counts.add("malformed")
                feedback = "No JSON list of configurations could be read. Answer with a ```json``` list."
                continue
            problems = self._take(parsed.items, guideline, seen, out, n)
            if len(out) == n:
                return out
            feedback = "\n".join(problems[:10]) or f"Only {len(out)} of {n} configurations were usable."
        missing = n - len(out)
        if missing > 0:
            extra = self.random_unseen(history, missing, seen)
            self._counts.add("fallbacks", len(extra))
            note = (guideline + " " if guideline else "") + "[random fallback: LLM output unusable]"
            out.extend(Proposal(c, note.strip()) for c in extra)
        return out

    def _ask(self, history: Sequence[Trial], n: int, feedback: str) -> str | Exception:
        """One LLM call: its reply, or the exception it raised (a broken backend must not stop the search)."""
        prompt = self.prompt(history, n, feedback)
        self.last_prompt = prompt
        self._counts.add("calls")
        try:
            reply = self.llm(prompt)
            if not isinstance(reply, str):
                raise TypeError(f"llm returned {type(reply).__name__}, not str")
        except Exception as exc:
            self._counts.add("llm_errors")
            return exc
        self.last_reply = reply
        return reply

    def _take(self, items: Sequence[object], guideline: str, seen: set[str], out: list[Proposal], n: int) -> list[str]:
        """Coerce proposed entries and append the usable new ones to ``out`` (up to ``n``); the problems found."""
        problems = []
        for item in items:
            self._counts.add("proposed")
            config, outcome = coerce_config(item, self.space, self.budget, repair=self.repair)
            if config is None:
                self._counts.add(outcome)
                problems.append(f"{json.dumps(item, default=str)[:120]}: {outcome.replace('_', ' ')}")
                continue
            if config.key in seen:
                self._counts.add("duplicates")
                problems.append(f"{config.key}: already evaluated or repeated")
                continue
            self._counts.add(outcome)
            seen.add(config.key)
            out.append(Proposal(config, guideline))
            if len(out) == n:
                break
        return problems
