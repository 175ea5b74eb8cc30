"""The analysis's independent fits as Ray tasks give the local numbers: cross-validation folds and
bootstrap replicates run by :func:`callscale.executors.ray.ray_map` on a local Ray cluster (127.0.0.1)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # bind every Ray node to 127.0.0.1
ray = pytest.importorskip("ray", reason="Ray is not installed; run: pip install 'callscale[ray]'")

from callscale.executors.local import local_map, serial_map  # noqa: E402
from callscale.executors.ray import ray_map  # noqa: E402
from callscale.scaling import prior  # noqa: E402
from callscale.scaling.estimate import ItemCounts  # noqa: E402
from callscale.scaling.predict import vote_curve_draws  # noqa: E402
from callscale.scaling.prior import fit_answer_prior, select_penalty  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[None]:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _counts() -> list[ItemCounts]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(40):
        p = rng.beta(0.6, 0.9)
        n = rng.multinomial(8, [p, (1 - p) * 0.5, (1 - p) * 0.3, (1 - p) * 0.2])
        out.append(ItemCounts(int(n[0]), tuple(sorted((int(m) for m in n[1:3] if m), reverse=True)) + (1,) * int(n[3])))
    return out


def test_ray_map_is_map() -> None:
    assert ray_map(abs, [-2, 3, -5]) == [2, 3, 5] and ray_map(abs, []) == []


def test_folds_and_replicates_on_ray_give_the_local_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every problem counts as large here, so that the replicates have their own streams and go out.
    monkeypatch.setattr(prior, "DENSE_MAX", 0)
    counts = _counts()
    assert select_penalty(counts, mapper=ray_map) == select_penalty(counts, mapper=serial_map)
    fitted = fit_answer_prior(counts, mapper=ray_map)
    ks = np.array([1, 3, 9, 31])
    on_ray = vote_curve_draws(counts, ks, prior=fitted, n_boot=8, seed=5, mapper=ray_map)
    local = vote_curve_draws(counts, ks, prior=fitted, n_boot=8, seed=5, mapper=local_map)
    assert np.array_equal(on_ray.replicates, local.replicates) and np.array_equal(on_ray.mean, local.mean)
