"""`callscale scale` beyond the exact range of the vote formula, and its bounds on --predict-to."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from callscale.cli import app
from callscale.scaling.fit import BASE_CONCENTRATION, EXTEND_MAX, PENALTY_CANDIDATES, PROFILE_BANDS

runner = CliRunner()


def test_scale_predicts_past_k_150_with_a_likelihood_range(tmp_path: Path) -> None:
    report = tmp_path / "report"
    result = runner.invoke(app, [
        "scale", "--task", "arithmetic", "--backend", "simulated", "--samples", "8", "--limit", "30",
        "--predict-to", "301", "--boot", "10", "--report", str(report), "--store", str(tmp_path / "s.sqlite"), "--json"])
    assert result.exit_code == 0, result.stderr
    part = json.loads(result.stdout)["parts"][0]
    span = part["likelihood_range"]
    assert span["k"] == [1, 3, 8, 9, 31, 101, 301]
    assert all(0.0 <= lo <= hi <= 1.0 for lo, hi in zip(span["lo"], span["hi"], strict=True))
    full = json.loads((report / "summary.json").read_text())[0]
    assert full["predicted_k"][:150] == list(range(1, 151)) and full["predicted_k"][-1] == 301
    assert len(full["predicted"]) == len(full["predicted_k"]) == len(full["chen"])
    assert 1 <= part["k_star_predicted"] <= 301
    assert part["prior_penalty"] in PENALTY_CANDIDATES  # 30 items: chosen by cross-validation
    assert part["prior_bands"] == list(PROFILE_BANDS)
    base_a, base_b = part["prior_base"]  # the simulated items are sometimes right, sometimes not
    assert base_a > 0 and base_b > 0 and base_a + base_b <= BASE_CONCENTRATION + 1e-9
    html = (report / "index.html").read_text()
    assert "chosen by cross-validation" in html and "bands cut at p = 0.05, 0.15, 0.35" in html
    assert f"Beta({base_a:.3g}, {base_b:.3g})" in html
    lo, hi = part["k_star_measured_interval"]
    assert 1 <= lo <= hi <= 8 and len(full["measured_lo"]) == len(full["measured"]) == 8
    assert [b["offset"] for b in part["blocks"]] == [0]  # 8 samples hold one block of 5


def test_predict_to_beyond_the_extension_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scale", "--task", "arithmetic", "--backend", "simulated",
                                 "--predict-to", str(EXTEND_MAX + 1), "--report", str(tmp_path / "r"),
                                 "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and "--predict-to" in result.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "s.sqlite").exists()
