"""The one home of cost: LLM-primitive cost m·n, forward passes, FLOPs, dollars, AgentTTS budgets.

Every other module — the ledger (measured calls), declared call structure, search budgets and
asymptotic analysis — computes cost through these functions, so a formula is written once. The
arithmetic is generic: ints, :class:`fractions.Fraction` and sympy expressions all work.

* **Primitive cost** (Meyerson & Qiu): one forward pass of a model of size m over n tokens costs
  m·n; a call over P prompt and T completion tokens costs m·(P + T).
* **Forward passes weighted by context**: a call that writes T tokens after a P-token prompt makes
  T passes reading P, P+1, … tokens: Σ = T·P + T(T−1)/2 (P when T = 0).
* **FLOPs** ≈ 2·m per token processed.
* **Dollars** from per-million-token prices; unknown prices give ``None`` ("—"), never 0.
* **AgentTTS stage budget**: B = [α·(N_p + S·N_d) − 128] / 64, α = params / 3e9 (one unit is a
  3B-model call with 128 prompt and 64 decoded tokens).

Example:
    >>> primitive_cost(100, 10, 2), flops(100, 12), call_passes(10, 3)
    (1200, 2400.0, 33)
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

METRICS = ("calls", "prompt_tokens", "completion_tokens", "tokens", "primitive", "passes", "depth")
"""Cost measures of a decomposition, in the order reports show them; all are exact counts."""

REFERENCE_PARAMS = 3_000_000_000
REFERENCE_PROMPT_TOKENS = 128
REFERENCE_DECODE_TOKENS = 64


def primitive_cost(params: Any, prompt_tokens: Any, completion_tokens: Any) -> Any:
    """m·n of one call (or of a group's token totals): ``params × (prompt + completion tokens)``.

    Example:
        >>> primitive_cost(10, 100, 10)
        1100
    """
    return params * (prompt_tokens + completion_tokens)


def flops(params: Any, tokens: Any) -> float:
    """≈ 2·m FLOPs per token processed.

    Example:
        >>> flops(1_000, 3)
        6000.0
    """
    return 2.0 * params * tokens


def call_passes(prompt_tokens: int, completion_tokens: int) -> int:
    """Σ over one call's forward passes of the context each reads: T·P + T(T−1)/2 (P if T = 0).

    Example:
        >>> call_passes(10, 1), call_passes(10, 3), call_passes(10, 0)
        (10, 33, 10)
    """
    t = completion_tokens
    if t <= 0:
        return prompt_tokens
    return t * prompt_tokens + t * (t - 1) // 2


def group_passes(calls: Any, prompt_tokens: Any, completion_tokens: Any) -> Any:
    """:func:`call_passes` summed over a group of ``calls`` from its token totals — exact when every
    call writes the same number of tokens T ≥ 1 (ints become Fractions; sympy expressions stay symbolic).

    Example:
        >>> group_passes(2, 20, 6)  # 2 × (3·10 + 3)
        Fraction(66, 1)
    """
    if isinstance(calls, int) and isinstance(prompt_tokens, int) and isinstance(completion_tokens, int):
        if calls == 0:
            return Fraction(0)
        calls, prompt_tokens, completion_tokens = Fraction(calls), Fraction(prompt_tokens), Fraction(completion_tokens)
    n, p, t = calls, prompt_tokens, completion_tokens
    return p * t / n + t * (t / n - 1) / 2


def dollars(prompt_tokens: int, completion_tokens: int, price_in_per_mtok: float | None,
            price_out_per_mtok: float | None) -> float | None:
    """Dollar cost from prices per million input and output tokens; ``None`` when either is unknown.

    Example:
        >>> dollars(1000, 100, 2.5, 10.0), dollars(1000, 100, None, 10.0)
        (0.0035, None)
    """
    if price_in_per_mtok is None or price_out_per_mtok is None:
        return None
    return (prompt_tokens * price_in_per_mtok + completion_tokens * price_out_per_mtok) / 1e6


def stage_tokens(prompt_tokens: int, decode_tokens: int, samples: int, *, fusion: bool = True) -> int:
    """Tokens one repeated-sampling stage processes: ``S`` generations of ``N_p + N_d`` tokens, plus
    (when ``fusion`` and ``S > 1``) a fusion call reading the prompt and the ``S`` drafts and writing
    ``N_d`` tokens.

    Example:
        >>> stage_tokens(100, 10, 1), stage_tokens(100, 10, 2)
        (110, 350)
    """
    if samples < 1:
        raise ValueError("samples must be at least 1")
    tokens = samples * (prompt_tokens + decode_tokens)
    if fusion and samples > 1:
        tokens += prompt_tokens + samples * decode_tokens + decode_tokens
    return tokens


def agentts_stage_budget(params: int, prompt_tokens: int, decode_tokens: int, samples: int) -> Fraction:
    """AgentTTS budget of one stage: ``[α·(N_p + S·N_d) − 128] / 64`` with ``α = params / 3e9``.

    Example:
        >>> agentts_stage_budget(72_000_000_000, 2048, 128, 1), agentts_stage_budget(3_000_000_000, 256, 64, 50)
        (Fraction(814, 1), Fraction(52, 1))
    """
    if samples < 1:
        raise ValueError("samples must be at least 1")
    alpha = Fraction(params, REFERENCE_PARAMS)
    return (alpha * (prompt_tokens + samples * decode_tokens) - REFERENCE_PROMPT_TOKENS) / REFERENCE_DECODE_TOKENS
