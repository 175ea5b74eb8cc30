"""Smoke test of bench/scaling_prediction.py on the first items of a committed real pool."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from callscale.scaling.estimate import item_counts, read_pool_jsonl
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
    row = next(line for line in out.splitlines() if line.startswith("arithmetic"))
    mae_ours, mae_chen = (float(x) for x in row.split()[1:3])
    assert 0.0 < mae_ours < 0.2 and 0.0 < mae_chen < 0.2
    assert "ours lower in" in out and "of 1 scenarios" in out
    # the K*-within-noise count agrees with the row's accuracy lost and the measured curve's noise
    cells = row.split()
    lost_ours, lost_chen, noise = float(cells[11]), float(cells[12]), float(cells[16])
    within = next(line for line in out.splitlines() if "within the measured curve's noise" in line)
    assert f"ours {int(lost_ours <= noise)}, Chen {int(lost_chen <= noise)} of 1" in within


def test_bench_simulates_pools_like_a_real_one(bench: object, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--pool", str(POOL), "--pool-items", "60", "--like", "2", "--boot", "5"]
    assert bench.main(args) == 0  # type: ignore[attr-defined]
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("arithmetic like #")]
    assert [r.split()[2] for r in rows] == ["#0", "#1"] and rows[0] != rows[1]
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
