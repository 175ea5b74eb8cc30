"""Symbolic costs: growth classes, Θ terms with several variables, forward-pass costs, gains."""

from __future__ import annotations

import pytest
import sympy

from callscale.asymptotic.symbolic import (
    Growth,
    constant_symbol,
    gain,
    growth,
    leading_term,
    measures,
    passes_of,
    size_symbol,
    symbolic_cost,
    theta,
)
from callscale.costs import call_passes
from callscale.networks import Network, vote_network
from callscale.primitives import Knockout, MapReduce, Sample
from callscale.structure import CallGroup, Cost

n, k, b, ell = (size_symbol(s) for s in "nkbl")
m, m_q, m_d = (constant_symbol(s) for s in ("m", "m_q", "m_d"))


@pytest.mark.parametrize(("expr", "label"), [
    (3 * n**2 + 5 * n + 7, "n^2"),
    (m * n * sympy.log(n) + n, "n log n"),
    (sympy.log(n) + 2, "log n"),
    (sympy.Integer(5) * m, "1"),
    (2**n + n**10, "2^n"),
    (n * 2**n + 2**n * 100, "n·2^n"),
    (3**n / n, "n^-1·3^n"),
    (sympy.sqrt(n) * sympy.log(n) ** 2, "n^0.5 log^2 n"),
    (sympy.ceiling(n / 4) * sympy.Max(n, 3), "n^2"),
    ((n**3 + n) / (n + 1), "n^2"),
    (sympy.exp(2 * n) + n, "7.38906^n"),
])
def test_growth_classes(expr: object, label: str) -> None:
    assert growth(expr, n).label() == label


def test_growth_of_a_nonstandard_term_falls_back_to_limits() -> None:
    assert growth(sympy.log(n + 1) * n, n).label() == "n"  # log(n+1) is not a standard factor
    assert Growth(power=2) > Growth(power=1, log_power=3) > Growth(power=1)
    assert Growth(base=2) > Growth(power=50)


def test_theta_keeps_the_pareto_dominant_terms_of_the_papers_costs() -> None:
    naive = m_q * b**2 * k * ell + m_d * b**2 * k**2 * ell**2  # QA Θ(m_q·b²·n), developer Θ(m_d·b²·n²), n = k·l
    focused = m_q * k * ell + m_d * ell**2 * b
    assert sympy.simplify(theta(naive, [b, k, ell]).expr - b**2 * k**2 * ell**2 * m_d) == 0
    th = theta(focused, [b, k, ell])
    assert sympy.simplify(th.expr - (m_q * k * ell + m_d * ell**2 * b)) == 0  # incomparable terms both stay
    assert th.label("l") == "l^2" and th.label("k") == "k" and th.label("b") == "b"
    # the ratio: Θ(b·k²) when the developer dominates, Θ(b²·k) when the QA does
    ratio = theta(naive / focused, [b, k, ell])
    assert ratio.label("b") == "b" and ratio.label("k") == "k"
    assert sympy.simplify(ratio.expr.subs(m_q, 0) - b * k**2) == 0


def test_theta_drops_numbers_and_negative_lower_terms() -> None:
    assert theta(7 * n**2 / 2 - 3 * n + 1, [n]).expr == n**2
    assert theta(sympy.Integer(4), [n]).expr == 1
    expr = sympy.ceiling(sympy.log(n / 8) / sympy.log(4)) + 1  # MapReduce depth
    assert growth(expr, n).label() == "log n"
    assert leading_term(m * n**2 + 5 * n * sympy.log(n) + 7, n) == m * n**2


def test_passes_of_a_uniform_group_equals_the_per_call_sum() -> None:
    calls, p, t = 5, 40, 7
    group = CallGroup("m", calls, calls * p, calls * t)
    assert passes_of(group) == calls * call_passes(p, t) == calls * (t * p + t * (t - 1) // 2)
    symbolic = passes_of(CallGroup("m", k, k * n, k * 3))
    assert sympy.expand(symbolic - k * (3 * n + 3)) == 0
    assert passes_of(CallGroup("m", 0, 0, 0)) == 0


def test_measures_on_numbers_need_no_sympy_and_stay_exact() -> None:
    c = Cost.of("a", calls=2, prompt_tokens=20, completion_tokens=6) + Cost.of("b", calls=1, prompt_tokens=9,
                                                                                completion_tokens=1)
    out = measures(c, {"a": 10, "b": 3})
    assert out == {"calls": 3, "prompt_tokens": 29, "completion_tokens": 7, "tokens": 36, "primitive": 290,
                   "passes": 10 * 66 + 3 * 9, "depth": 2}
    assert all(isinstance(v, int) for v in out.values())
    with pytest.raises(KeyError, match="no model size"):
        measures(c, {"a": 1})


def test_symbolic_cost_of_networks_with_symbolic_sizes() -> None:
    kk = size_symbol("k")
    net = Network("ko", (Sample("gen", "g", k=kk), Knockout("ko", "j", inputs=("gen",))))  # type: ignore[arg-type]
    s = symbolic_cost(net.cost({}))
    assert sympy.expand(s["calls"] - (2 * kk - 1)) == 0
    assert growth(s["depth"], "k").label("k") == "log k"
    assert "k" in s.variables and "m_g" not in s.variables
    mr = symbolic_cost(Network("mr", (MapReduce("mr", "m", chunk_words=10, fan_in=2),)).cost({"document": n, "head": 5}))
    assert growth(mr["calls"], n).label() == "n" and growth(mr["depth"], n).label() == "log n"
    assert mr.evaluate({"n": 80})["calls"] == 8 + 7


def test_gain_and_its_theta() -> None:
    big = symbolic_cost(vote_network("g", k=1).cost({"prompt": n, "answer": 1}), {"g": k * m})
    small = symbolic_cost(vote_network("s", k=1).cost({"prompt": n, "answer": 1}), {"s": m})
    g = gain(big, small, "primitive")
    assert g.ratio == k and g.theta.label("k") == "k" and g.theta.label("n") == "1"
    assert g.to_dict()["theta"] == "Θ(k)"
