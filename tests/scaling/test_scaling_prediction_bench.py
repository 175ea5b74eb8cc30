"""Smoke test of bench/scaling_prediction.py on the first items of a committed real pool."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from callscale.scaling.estimate import item_counts, read_pool_jsonl
from callscale.scaling.laws import get_law, law_names
from callscale.scaling.prior import fit_answer_prior

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "scaling_prediction.py"
POOL = ROOT / "studies" / "vote_scaling" / "pools" / "arithmetic.jsonl"


@pytest.fixture()
def bench(monkeypatch: pytest.MonkeyPatch) -> object:
    spec = importlib.util.spec_from_file_location("scaling_prediction", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "scaling_prediction", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_bench_evaluates_the_first_items_of_a_pool(bench: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--pool", str(POOL), "--pool-items", "40", "--boot", "5"]) == 0  # type: ignore[attr-defined]
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("scenario"))
    row = next(line for line in lines if line.startswith("arithmetic"))

    def cell(label: str) -> float:  # cells are right-aligned under their header
        return float(row[: header.index(label) + len(label)].split()[-1])

    mae_ours, mae_chen, mae_beta = (cell(f"MAE {law}") for law in ("ours", "Chen", "beta"))
    assert 0.0 < mae_ours < 0.2 and 0.0 < mae_chen < 0.2 and 0.0 < mae_beta < 0.3
    assert "ours lower in" in out and "of 1 scenarios" in out
    # the K*-within-noise count agrees with the row's accuracy lost and the measured curve's noise
    lost = {law: cell(f"lost {law}") for law in ("ours", "Chen", "beta")}
    noise = cell("meas ±")
    within = next(line for line in lines if "within the measured curve's noise" in line)
    assert ", ".join(f"{law} {int(v <= noise)}" for law, v in lost.items()) + " of 1" in within
    # every registered law side by side, per task and overall, band coverage raw > calibrated
    side = lines[lines.index(next(line for line in lines if line.startswith("every registered law"))):]
    names = law_names()
    assert all(f"MAE {get_law(n).short}" in side[1] for n in names)
    overall = next(line for line in side if line.startswith("overall")).split()
    assert len(overall) == 2 + 2 * len(names) and re.fullmatch(r"\d+%>\d+%", overall[3])  # ours has a band
    assert "factor on the raw band's half-width" in side[-1] and "held out of the fit" in side[-2]


def test_bench_simulates_pools_like_a_real_one(bench: object, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--pool", str(POOL), "--pool-items", "60", "--like", "2", "--boot", "5"]
    assert bench.main(args) == 0  # type: ignore[attr-defined]
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("arithmetic like #")]
    assert [r.split()[2] for r in rows] == ["#0", "#1"] and rows[0] != rows[1]
    assert any(line.startswith("arithmetic like ") and line.split()[2] == "2" for line in out.splitlines())  # per task
    # drawn from the prior fitted on the pool: the simulated accuracy at K = 1 is close to the pool's
    counts = [item_counts(i.answers, i.gold) for i in read_pool_jsonl(POOL)[:60]]
    prior = fit_answer_prior(counts)
    gen = bench.prior_generator(prior)  # type: ignore[attr-defined]
    items = [gen(np.random.default_rng(s)) for s in range(4000)]
    assert all(v.shape == (prior.n_explicit + 3,) and abs(v.sum() - 1) < 1e-9 for v in items[:50])
    pool_k1 = np.mean([c.correct / c.n for c in counts])
    assert abs(np.mean([v[0] for v in items]) - pool_k1) < 0.03


def test_bench_rejects_more_items_than_the_pool_has(bench: object, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        bench.main(["--pool", str(POOL), "--pool-items", "100000"])  # type: ignore[attr-defined]
    assert exc.value.code == 2
    assert "arithmetic.jsonl" in capsys.readouterr().err
