"""``callscale theory vote``: exact vote accuracy of a two-level easy/hard mixture, its shape and K*;
``callscale theory adaptive``: exact accuracy and calls of an adaptive stopping rule (ahead:k, posterior:q)."""

from __future__ import annotations

import math
from typing import Any

import typer

from callscale.cli.common import UserError, emit, stdout, user_errors

app = typer.Typer(help="Exact results from the theory of vote scaling (no calls).", no_args_is_help=True)


def parse_ks(text: str) -> list[int]:
    """``"1,3,5"`` or ``"1-9"`` (odd and even) or a mix, as sorted unique positive integers.

    Example:
        >>> parse_ks("1,3,5-7")
        [1, 3, 5, 6, 7]
    """
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                out.update(range(lo, hi + 1))
            elif part:
                out.add(int(part))
        except ValueError:
            raise UserError(f"--k: {part!r} is not a whole number or a range like 1-9") from None
    if not out or min(out) < 1:
        raise UserError("--k needs positive whole numbers, e.g. 1,3,5,9")
    return sorted(out)


@app.command("vote")
def vote(
    alpha: float = typer.Option(..., help="Fraction of easy items (0 < α < 1)."),
    p_easy: float = typer.Option(..., help="P(correct) on easy items (> 0.5)."),
    p_hard: float = typer.Option(..., help="P(correct) on hard items (< 0.5)."),
    k: str = typer.Option("1,3,5,9,15,31,101", help="Numbers of calls, e.g. 1,3,5 or 1-21."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable result on stdout."),
) -> None:
    """F(K) for a binary two-level mixture, the shape theorem's verdict and the closed-form best K."""
    from callscale.scaling.theory import mixture_accuracy, mixture_best_k, mixture_shape, mixture_threshold

    with user_errors():
        ks = parse_ks(k)
        if not 0 < alpha < 1:
            raise UserError(f"--alpha must lie strictly between 0 and 1, got {alpha}")
        if not 0.5 < p_easy <= 1:
            raise UserError(f"--p-easy must be above 0.5 (easy items are right more often than not), got {p_easy}")
        if not 0 <= p_hard < 0.5:
            raise UserError(f"--p-hard must be below 0.5 (hard items are wrong more often than not), got {p_hard}")
        values = mixture_accuracy(alpha, p_easy, p_hard, ks)
        best = mixture_best_k(alpha, p_easy, p_hard)
        result: dict[str, Any] = {
            "alpha": alpha, "p_easy": p_easy, "p_hard": p_hard,
            "accuracy": {str(kk): round(float(v), 6) for kk, v in zip(ks, values, strict=True)},
            "limit": alpha,
            "shape": mixture_shape(alpha, p_easy, p_hard).value,
            "threshold": mixture_threshold(p_easy, p_hard),
            "best_k": None if math.isinf(best) else int(best),
        }

    def render(r: dict[str, Any]) -> None:
        stdout.print(f"two-level mixture: α={alpha} easy items right w.p. {p_easy}, hard items w.p. {p_hard}")
        for kk, v in r["accuracy"].items():
            stdout.print(f"  F({kk:>4}) = {v:.4f}")
        stdout.print(f"  F(∞)    = {r['limit']:.4f}")
        stdout.print(f"shape over odd K: {r['shape'].replace('_', ' ')}  (threshold 1−1/t = {r['threshold']:.4f}; "
                     f"α {'>' if alpha > r['threshold'] else '≤'} threshold, p₁+p₂ {'>' if p_easy + p_hard > 1 else '<'} 1)")
        stdout.print(f"best K: {'∞ (more calls always help)' if r['best_k'] is None else r['best_k']}")

    emit(result, as_json, render)


def parse_dist(text: str) -> list[float]:
    """``"0.7,0.3"`` as a list of probabilities (correct answer first); checked only for being numbers.

    Example:
        >>> parse_dist("0.7, 0.2,0.1")
        [0.7, 0.2, 0.1]
    """
    out = []
    for part in text.split(","):
        try:
            out.append(float(part))
        except ValueError:
            raise UserError(f"--dist: {part.strip()!r} is not a number; give probabilities like 0.7,0.3") from None
    return out


@app.command("adaptive")
def adaptive(
    rule: str = typer.Option(..., help="ahead:k (stop when one answer leads every other by k) or posterior:q "
                                       "(stop when P(leader is the most likely answer) ≥ q), optionally ,max:N."),
    dist: str = typer.Option(..., help="P(correct answer), then P(each wrong answer), e.g. 0.7,0.3; what is "
                                       "left of 1 abstains."),
    abstain: float | None = typer.Option(None, help="Share of calls that abstain (no vote, still a call); "
                                                    "--dist then sums to 1 (shares of the answers) or to 1 − it."),
    max_calls: int | None = typer.Option(None, "--max", help="Cap on calls; at the cap the plurality decides."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable result on stdout."),
) -> None:
    """Exact accuracy, expected calls and quantiles of calls of an adaptive voting rule."""
    from dataclasses import replace

    from callscale.scaling.adaptive import adaptive_vote, parse_rule, split_distribution

    with user_errors():
        try:
            parsed = parse_rule(rule)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if max_calls is not None:
            if max_calls < 1:
                raise UserError(f"--max must be a whole number ≥ 1, got {max_calls}")
            if parsed.max_calls is not None and parsed.max_calls != max_calls:
                raise UserError(f"the cap is given twice: max:{parsed.max_calls} in --rule and --max {max_calls}")
            parsed = replace(parsed, max_calls=max_calls)
        try:
            probs, share = split_distribution(parse_dist(dist), abstain)
        except ValueError as exc:
            raise UserError(f"--dist: {exc}") from None
        try:
            result = adaptive_vote(parsed, probs, share)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        out = result.to_dict()

    def render(r: dict[str, Any]) -> None:
        q = r["calls_quantiles"]
        stdout.print(f"{r['rule']} on answers {', '.join(f'{p:g}' for p in r['probs'])} (correct first), "
                     f"abstaining {r['abstain']:g}")
        stdout.print(f"  accuracy        {r['accuracy']:.6f}")
        stdout.print(f"  expected_calls  {r['expected_calls']:.4f}")
        stdout.print(f"  calls           median {q['median']} · 90 % {q['p90']} · 99 % {q['p99']}")
        if parsed.max_calls is not None:
            stdout.print(f"  cap reached     {r['unsettled']:.6f} (the plurality decided)")
        stdout.print(f"  truncated mass  {r['truncated_mass']:.2g}")

    emit(out, as_json, render)
