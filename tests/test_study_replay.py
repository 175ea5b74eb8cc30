"""The committed vote-scaling study regenerates offline from its replay file, with exact call counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app
from callscale.scaling.estimate import item_counts, read_pool_jsonl, subset_vote_curves
from callscale.study import FULL

STUDY = Path(__file__).parents[1] / "studies" / "vote_scaling"


def test_study_report_regenerates_offline(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "scale", "--study", "full", "--backend", "replay", "--replay", str(STUDY / "replay.jsonl.gz"),
        "--boot", "20", "--predict-to", "64", "--report", str(tmp_path / "report"),
        "--store", str(tmp_path / "s.sqlite"), "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    parts = {p["name"]: p for p in summary["parts"]}
    assert list(parts) == [p.name for p in FULL]
    for part in FULL:
        got = parts[part.name]
        assert got["items"] == part.items >= 100 and got["samples"] == part.spec.samples >= 16
        assert part.logprobs or part.spec.samples >= 32  # the free-form parts carry the ≥ 32-sample curves
        # The whole curve K = 1…M costs exactly N·M calls; the logprobs route N calls.
        assert got["calls"]["full curve (system calls)"] == part.items * part.spec.samples
        assert got["calls"]["failed"] == 0
        expected = part.items * part.spec.samples
        if part.logprobs:
            assert got["calls"]["logprobs route (system calls)"] == part.items
            expected += part.items
        # Identical prompts in two parts (e.g. "3 + 4" shipped and generated) are drawn once, then reused.
        assert got["calls"]["made now"] + got["calls"]["from the store"] == expected
        # The replayed pools are the committed parsed pools: the measured curve matches them exactly.
        pools = read_pool_jsonl(STUDY / "pools" / f"{part.name}.jsonl")
        curve = subset_vote_curves([item_counts(p.answers, p.gold) for p in pools], [1, part.spec.samples]).mean(axis=0)
        assert abs(got["accuracy_k1"] - curve[0]) < 1e-12 and abs(got["accuracy_kM"] - curve[1]) < 1e-12
        # What the first few samples allow, whatever the prior: on the real pools the range holds the curve
        # measured on all samples, and it is wider at K = M than at K = 1.
        span = got["likelihood_range"]
        assert span["k"][0] == 1 and span["k"][-1] >= part.spec.samples
        at = dict(zip(span["k"], zip(span["lo"], span["hi"], strict=True), strict=True))
        for k, value in ((1, curve[0]), (part.spec.samples, curve[1])):
            assert at[k][0] <= value <= at[k][1]
        assert at[part.spec.samples][1] - at[part.spec.samples][0] > at[1][1] - at[1][0]
        # Every disjoint block of 5 samples is fitted in turn; the first is the main prediction.
        assert [b["offset"] for b in got["blocks"]] == list(range(0, part.spec.samples - 4, 5))
        assert got["blocks"][0]["mae_ours"] == got["mae_ours"] and got["blocks"][0]["k_star"] == got["k_star_predicted"]
    assert (tmp_path / "report" / "index.html").exists()
    assert summary["calls_made"] == sum(p["calls"]["made now"] for p in summary["parts"])


EXPECTED_SMALL = Path(__file__).parent / "data" / "study_small_summary.json"
"""``scale --study small --backend replay --json`` as the code before the scaling restructuring printed
it (its report path dropped): every number the analysis gives must stay what it was. Updated once since,
when the beta-binomial fits moved from a simplex search to Newton's method: their optimum is more
precise, which moved the base law by at most 8e-5 and every other number by at most 4e-7."""


def _same(expected: object, got: object, path: str = "") -> list[str]:
    """Where ``got`` differs from ``expected`` (numbers within 1e-12); keys ``got`` adds are allowed."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"{path}: not a mapping"]
        return [d for k, v in expected.items()
                for d in (_same(v, got[k], f"{path}/{k}") if k in got else [f"{path}/{k}: missing"])]
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return [f"{path}: {got!r} is not a list of {len(expected)}"]
        return [d for i, (a, b) in enumerate(zip(expected, got, strict=True)) for d in _same(a, b, f"{path}[{i}]")]
    if isinstance(expected, float) and isinstance(got, int | float) and not isinstance(got, bool):
        return [] if abs(expected - got) <= 1e-12 else [f"{path}: {got!r} != {expected!r}"]
    return [] if type(expected) is type(got) and expected == got else [f"{path}: {got!r} != {expected!r}"]


@pytest.mark.slow
def test_the_small_study_replays_to_the_same_numbers(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "scale", "--study", "small", "--backend", "replay", "--replay", str(STUDY / "replay.jsonl.gz"),
        "--report", str(tmp_path / "report"), "--store", str(tmp_path / "s.sqlite"), "--json"])
    assert result.exit_code == 0, result.stderr
    assert _same(json.loads(EXPECTED_SMALL.read_text()), json.loads(result.stdout)) == []
