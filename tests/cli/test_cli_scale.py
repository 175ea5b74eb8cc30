"""`callscale scale` beyond the exact range of the vote formula, its bounds on --predict-to, and the study
options (--model, --limit, the simulated backend)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from callscale.cli import app
from callscale.scaling.analysis import summary_of
from callscale.scaling.density import BASE_CONCENTRATION
from callscale.scaling.grid import EXTEND_MAX
from callscale.scaling.prior import PENALTY_CANDIDATES, PROFILE_BANDS
from callscale.study import SMALL

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
    assert len(full["laws"]["ours"]["curve"]) == len(full["predicted_k"]) == len(full["laws"]["chen"]["curve"])
    assert summary_of(full) == part  # the JSON is the record's dict without its curves
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


def _study(tmp_path: Path, *options: str) -> dict[str, object]:
    result = runner.invoke(app, [
        "scale", "--study", "small", "--backend", "simulated", "--boot", "10", "--predict-to", "20",
        "--report", str(tmp_path / "report"), "--store", str(tmp_path / "s.sqlite"), "--json", *options])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_the_small_study_runs_on_the_simulated_world_of_every_part(tmp_path: Path) -> None:
    summary = _study(tmp_path, "--limit", "6")
    parts = summary["parts"]
    assert isinstance(parts, list) and [p["name"] for p in parts] == [p.name for p in SMALL]
    assert summary["failures"] == 0
    for part, study_part in zip(parts, SMALL, strict=True):
        assert part["calls"]["failed"] == 0 and part["calls"]["full curve (system calls)"] == 6 * study_part.spec.samples
        assert part["accuracy_k1"] > 0.0  # the simulated items are right some of the time, in every part


def test_model_and_limit_reach_every_part_of_the_study(tmp_path: Path) -> None:
    summary = _study(tmp_path, "--model", "foo", "--limit", "5")
    parts = summary["parts"]
    assert isinstance(parts, list) and len(parts) == len(SMALL)
    for part in parts:
        assert part["items"] == 5 and part["settings"]["model"] == "foo"
    # The model is part of the pools' identity: the same study drawn from another model pays again.
    again = _study(tmp_path, "--model", "bar", "--limit", "5")
    assert again["calls_made"] == summary["calls_made"] > 0
    cached = _study(tmp_path, "--model", "foo", "--limit", "5")
    assert cached["calls_made"] == 0


def test_an_unknown_study_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scale", "--study", "medium", "--backend", "simulated",
                                 "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and "unknown study 'medium'" in result.stderr
