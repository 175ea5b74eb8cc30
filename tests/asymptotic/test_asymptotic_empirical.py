"""Measured growth: the pass ledger, log-log slopes with intervals, class choice, network files."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from callscale.asymptotic.empirical import CANDIDATES, check_growth, fit_classes, loglog_slope
from callscale.asymptotic.measurement import PassLedger, analyze_network, ledger_metrics, measure
from callscale.asymptotic.network_structure import StructureError
from callscale.asymptotic.symbolic import Growth
from callscale.backends.simulated import SimulatedBackend
from callscale.costs import call_passes
from callscale.engine import Engine
from callscale.ledger import Ledger
from callscale.networks import Network, load_network, vote_network
from callscale.primitives import Generate, Knockout, MapReduce, Sample
from callscale.records import Completion, ModelCard, Request, Usage


def test_call_passes_is_the_sum_of_forward_pass_contexts() -> None:
    for p, t in [(10, 1), (10, 4), (3, 9), (50, 0)]:
        assert call_passes(p, t) == (sum(p + j for j in range(t)) if t else p)


def test_pass_ledger_counts_every_completion_the_ledger_counts() -> None:
    backend = SimulatedBackend(lambda r: {"a b c": 1.0}, params={"m": 7}, prompt_tokens=lambda r: len(r.text.split()),
                               completion_tokens=lambda t: len(t.split()))
    engine = Engine(backend, ledger=PassLedger())

    async def work() -> None:
        await engine.complete(Request.chat("m", "one two three four", max_tokens=8), 3, node="x")
        await engine.complete(Request.chat("m", "one two three four", max_tokens=8), 3, node="x")  # cache hits count too

    asyncio.run(work())
    ledger = engine.ledger
    assert isinstance(ledger, PassLedger)
    assert ledger.passes("x") == ledger.passes() == 6 * 7 * call_passes(4, 3)
    metrics = ledger_metrics(ledger)
    assert metrics["calls"] == 6 and metrics["tokens"] == 6 * 7 and metrics["primitive"] == 6 * 7 * 7
    assert "passes" not in ledger_metrics(Ledger())
    other = PassLedger()
    other.record("y", ModelCard("m", params=2), Completion("z", 0, Usage(5, 2)))
    ledger.merge(other)
    assert ledger.passes("y") == 2 * call_passes(5, 2)


def test_measure_runs_each_size_on_a_fresh_engine() -> None:
    async def vote(k: int, engine: Engine) -> dict[str, int]:
        await engine.complete(Request.chat("m", "q"), k)
        return {"k": k}

    out = asyncio.run(measure(vote, [1, 3, 9], lambda k: Engine(SimulatedBackend.constant({"A": 1.0}), ledger=PassLedger())))
    assert [m.metrics["calls"] for m in out] == [1, 3, 9] and out[2].detail == {"k": 9}


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0, 3.0])
def test_loglog_slope_of_a_power_law(power: float) -> None:
    ns = [2, 4, 8, 16, 32]
    fit = loglog_slope(ns, [5 * x**power for x in ns])
    assert fit.slope == pytest.approx(power) and fit.contains(power) and fit.r2 == pytest.approx(1.0)


def test_slope_interval_covers_the_truth_under_noise() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    ns = np.array([4, 8, 16, 32, 64, 128, 256])
    covered = 0
    for _ in range(200):
        fit = loglog_slope(ns, 3 * ns**1.5 * np.exp(rng.normal(0, 0.2, len(ns))))
        covered += fit.contains(1.5)
    assert 0.9 <= covered / 200 <= 0.99  # a 95 % interval
    two = loglog_slope([2, 4], [4, 16])
    assert two.slope == pytest.approx(2.0) and math.isinf(two.ci_high)
    with pytest.raises(ValueError, match="positive"):
        loglog_slope([1, 2, 3], [1, 0, 2])
    with pytest.raises(ValueError, match="two"):
        loglog_slope([2], [3])


@pytest.mark.parametrize("truth", CANDIDATES[1:])
def test_fit_classes_recognises_each_candidate_with_lower_order_terms(truth: Growth) -> None:
    ns = [3, 4, 6, 8, 10, 12] if truth.exponential else [4, 8, 16, 32, 64, 128]
    values = [math.exp(truth.log_value(x)) * 3 + 2 for x in ns]
    assert fit_classes(ns, values)[0].growth.same(truth)


def test_constant_data_prefers_the_simplest_class() -> None:
    assert fit_classes([2, 4, 8, 16], [5.0, 5.01, 4.99, 5.0])[0].growth.same(Growth())


def test_check_growth_sets_measured_against_declared() -> None:
    ks = [2, 4, 6, 8]
    values = [2**k * k**2 for k in ks]
    check = check_growth("passes", ks, values, values, Growth(base=2, power=2))
    assert check.exact and check.class_agrees and check.slope_agrees and not check.log_x
    assert check.best is not None and check.best.label() == "n^2·2^n"  # the declared class joins the candidates
    off = check_growth("calls", [2, 4, 8], [4, 8, 17], [4, 8, 16], Growth(power=1))
    assert not off.exact and off.max_relative_error == pytest.approx(1 / 16)


def test_network_analysis_checks_calls_and_depth_against_the_declaration() -> None:
    net = Network("ko", (Sample("gen", "sim", k=2), Knockout("pick", "sim", inputs=("gen",))))
    a = asyncio.run(analyze_network(net, "k", [2, 4, 8, 16]))
    assert a.exact
    assert [r.measured["ko"]["calls"] for r in a.rows] == [3, 7, 15, 31]
    assert [r.measured["ko"]["depth"] for r in a.rows] == [2, 3, 4, 5]
    check = a.checks["ko"]
    assert check.best is not None and check.best.label() == "n" and check.declared_growth == Growth(power=1)
    assert a.symbolic is not None and a.symbolic["decompositions"]["ko"]["cost"]["calls"] == "2*k - 1"


def test_network_analysis_of_a_document_size() -> None:
    net = Network("mr", (MapReduce("mr", "sim", chunk_words=16, fan_in=2),))
    a = asyncio.run(analyze_network(net, "document", [32, 64, 128, 256], symbolic=False))
    assert a.exact and [r.measured["mr"]["depth"] for r in a.rows] == [2, 3, 4, 5]


def test_network_without_structure_in_the_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StructureError, match="declares no call structure that depends on 'k'"):
        asyncio.run(analyze_network(Network("g", (Generate("g", "sim"),)), "k", [1, 2]))
    with pytest.raises(StructureError, match="has no size 'fan_in'"):
        asyncio.run(analyze_network(vote_network("sim", 3), "fan_in", [2, 3]))
    path = tmp_path / "net.yaml"
    path.write_text("name: v\ndefaults: {model: sim}\nnodes:\n"
                    "  - {id: g, op: sample, k: 3}\n  - {id: v, op: vote, inputs: [g]}\n")
    a = asyncio.run(analyze_network(load_network(path), "k", [1, 2, 4], symbolic=False))
    assert [r.measured["v"]["calls"] for r in a.rows] == [1, 2, 4]
