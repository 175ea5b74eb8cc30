"""The paper's worked examples: declared counts equal the ledger's, and the gains grow as stated."""

from __future__ import annotations

import math

import pytest
from asym_helpers import gains, run

from callscale.asymptotic.empirical import loglog_slope
from callscale.asymptotic.examples import NAMES, UnknownExampleError, get_example, symbolic_summary
from callscale.asymptotic.examples.evolution import fitness
from callscale.asymptotic.examples.specialists import mixed_task

SMALL = {
    "routing": ("k", [2, 3, 5]),
    "debugging": ("b", [1, 3, 9]),  # b > k: several bugs in one function
    "evolution": ("k", [1, 3, 5]),
    "summarising": ("n", [10, 100, 333]),  # chunks and levels that do not divide evenly
    "specialists": ("k", [1, 2, 5]),
}


@pytest.mark.parametrize("name", NAMES)
def test_declared_counts_equal_the_ledger_exactly(name: str) -> None:
    vary, sizes = SMALL[name]
    fixed = {"k": 4, "l": 5} if name == "debugging" else {"q": 3} if name == "specialists" else {}
    a = run(name, sizes, vary=vary, fixed=fixed)
    assert a.exact, a.mismatches()
    for row in a.rows:  # every measure, not only the fitted one
        for d in a.names:
            assert row.measured[d]["calls"] == row.declared[d]["calls"] > 0
            assert row.measured[d]["tokens"] == row.declared[d]["tokens"]
            assert row.measured[d]["passes"] == row.declared[d]["passes"]
            assert row.measured[d]["depth"] == row.declared[d]["depth"]


def test_routing_gain_grows_as_k() -> None:
    a = run("routing", [2, 4, 8, 16, 32])
    fit = loglog_slope([r.size for r in a.rows], gains(a))
    assert abs(fit.slope - 1) <= 0.1
    assert a.checks["gain"].best is not None and a.checks["gain"].best.label() == "n"
    primitive = run("routing", [2, 4, 8, 16, 32], metric="primitive").checks["gain"].slope.slope
    assert abs(primitive - 1) <= 0.1  # the one-pass m·n gives the same gain: answers are short


def test_debugging_gain_is_linear_in_b_and_quadratic_in_k() -> None:
    in_b = run("debugging", [8, 16, 32, 64, 128], vary="b", fixed={"k": 4})
    assert abs(in_b.checks["gain"].slope.slope - 1) <= 0.1
    in_k = run("debugging", [4, 8, 16, 32, 64], vary="k", fixed={"b": 4})
    assert abs(in_k.checks["gain"].slope.slope - 2) <= 0.1
    # In the ledger's one-pass m·n the full rewrite is only linear in n: the k² needs forward passes.
    one_pass = run("debugging", [4, 8, 16, 32, 64], vary="k", fixed={"b": 4}, metric="primitive")
    assert one_pass.checks["gain"].slope.slope < 1.1
    assert [r.measured["naive"]["depth"] for r in in_b.rows] == [2 * b for b in (8, 16, 32, 64, 128)]
    assert [r.measured["focused"]["depth"] for r in in_b.rows] == [1 + b // 4 for b in (8, 16, 32, 64, 128)]


def test_evolution_log_gain_is_linear_in_k() -> None:
    ks = [2, 4, 6, 8, 10]
    a = run("evolution", ks, symbolic=True)
    g = gains(a)
    per_k = loglog_slope(ks, [x / k for x, k in zip(g, ks, strict=True)], log_x=False)  # log2(gain / k) vs k
    assert abs(per_k.slope - 1) <= 0.1 and per_k.r2 > 0.999
    check = a.checks["gain"]
    assert check.best is not None and check.best.label() == "n·2^n" and check.class_agrees
    assert [r.measured["global"]["calls"] for r in a.rows] == [2**k for k in ks]
    assert [r.measured["local"]["calls"] for r in a.rows] == [2 * k for k in ks]
    assert all(r.detail["global"]["solved"] and r.detail["local"]["solved"] for r in a.rows)


def test_seeded_evolution_averages_to_the_expectation() -> None:
    seeds, k = 40, 4
    a = run("evolution", [k, k + 1], seeds=seeds, fixed={"l": 2})
    for row in a.rows:
        kk = row.size
        got = row.measured["global"]["calls"]
        sd = math.sqrt(1 - 2.0**-kk) * 2.0**kk  # standard deviation of a geometric with p = 2^-k
        assert abs(got - 2**kk) <= 4 * sd / math.sqrt(seeds)  # geometric with p = 2^-k, mean 2^k
        assert abs(row.measured["local"]["calls"] - 2 * kk) <= 4 * math.sqrt(2 * kk) / math.sqrt(seeds)
    assert not a.exact  # averages of random runs are not the declared expectation to the digit


def test_fitness_checker() -> None:
    assert fitness("1 1 1\n1 0 1\n1 1 1\n", 3, 3) == 2
    assert fitness("junk", 2, 3) == 0


def test_summarising_trades_depth_for_bounded_context() -> None:
    a = run("summarising", [256, 1024, 4096, 16384], fixed={"context": 2048})
    depths = [r.measured["map_reduce"]["depth"] for r in a.rows]
    assert depths == [1 + math.ceil(math.log(n / 64, 4)) for n in (256, 1024, 4096, 16384)]
    assert {r.detail["map_reduce"]["max_context"] for r in a.rows} == {a.rows[0].detail["map_reduce"]["max_context"]}
    assert [r.detail["single"]["fits_context"] for r in a.rows] == [True, True, False, False]
    assert abs(a.checks["gain"].slope.slope) < 0.05  # cost gain Θ(1)
    assert all(0.5 < g < 1 for g in gains(a))  # MapReduce costs a constant factor more


def test_specialists_on_shipped_questions() -> None:
    task = mixed_task(4, 5)
    assert {it.metadata["domain"] for it in task.items} == {"physics", "arithmetic", "medicine", "history"}
    assert all(len(it.metadata["description"].split()) <= 8 for it in task.items)
    a = run("specialists", [2, 3, 4, 5], fixed={"q": 40})
    last = a.rows[-1].detail
    assert abs(last["routed"]["routed_right"] - 0.9) < 0.06  # route_skill
    for d in ("generalist", "routed"):
        assert last[d]["ci_low"] <= last[d]["accuracy"] <= last[d]["ci_high"]
    # misrouted items go to an off-domain specialist: accuracy ≈ 0.9·p + 0.1·p_off at most the generalist's
    assert last["routed"]["accuracy"] <= last["generalist"]["accuracy"] + 0.02
    g = gains(a, "primitive")
    assert g == sorted(g) and g[-1] > 3


def test_symbolic_side_states_the_papers_theta_terms() -> None:
    deb = get_example("debugging").symbolic()
    naive, focused = deb["naive"].theta("passes"), deb["focused"].theta("passes")
    assert str(naive) == "Θ(b**2*k**2*l**2*m_d)"
    assert naive.label("b") == "b^2" and focused.label("l") == "l^2" and focused.label("b") == "b"
    evo = symbolic_summary(get_example("evolution"), {"l": 16, "lam": 1, "cap": 0}, "passes", "k")
    assert evo["decompositions"]["global"]["theta"] == "Θ(2**k*k**2*l**2*m_u)"
    assert evo["decompositions"]["local"]["theta"] == "Θ(k*l**2*m_u)"
    assert evo["gain"]["theta"] == "Θ(2**k*k)" and evo["gain"]["at_fixed"]["growth"] == "k·2^k"
    routing = get_example("routing").gain("passes")
    assert routing.theta.label("k") == "1"  # with n fixed the k specialist names in the route prompt saturate it
    assert routing.theta.label("c") == "c^-1"


def test_example_errors() -> None:
    with pytest.raises(UnknownExampleError, match="unknown example 'nope'"):
        get_example("nope")
    with pytest.raises(ValueError, match="has no size 'z'"):
        get_example("routing").sizes({"z": 3})
    with pytest.raises(ValueError, match="at least 2"):
        get_example("summarising").sizes({"b": 1})


def test_measured_side_runs_without_sympy(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "sympy", None)  # import sympy now raises ImportError
    a = run("routing", [2, 4, 8], symbolic=True)
    assert a.symbolic is None and a.exact and a.checks["gain"].declared_growth is None
