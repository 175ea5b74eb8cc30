"""The vote-scaling report renders the analysis record's dict: HTML, plots, summary.json and terminal lines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from callscale.report import vote_scaling as report
from callscale.report.vote_scaling import summary_lines, write_report
from callscale.scaling.analysis import VoteScaling, analyze_pools, summary_of
from callscale.scaling.estimate import PoolItem
from callscale.scaling.laws import ChenLaw, register_law, unregister_law


def mixture_pools(n: int, m: int, seed: int = 0) -> list[PoolItem]:
    rng = np.random.default_rng(seed)
    return [PoolItem(str(i), "R", tuple("R" if rng.random() < (0.85 if i < n / 2 else 0.4) else "W" for _ in range(m)))
            for i in range(n)]


@pytest.fixture(scope="module")
def result() -> VoteScaling:
    return analyze_pools("mix", mixture_pools(200, 15), fit_on=5, predict_to=40, n_boot=20)


def test_the_report_is_written_from_the_records_dict(tmp_path: Path, result: VoteScaling) -> None:
    html_path = write_report([result], tmp_path / "r")
    page = html_path.read_text()
    assert "mix" in page and "fitted on each disjoint block of 5 samples/item" in page
    assert "90 % interval over item resamples" in page and "best K by Chen et al.&#x27;s law" in page
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary == [json.loads(json.dumps(result.to_dict()))]
    assert summary[0]["k"] == list(range(1, 16)) and [b["offset"] for b in summary[0]["blocks"]] == [0, 5, 10]
    assert all((tmp_path / "r" / f"mix_{kind}.png").stat().st_size > 1000 for kind in ("measured", "predicted", "coverage"))
    # The same from the dict itself (what the CLI passes): identical page.
    assert write_report([result.to_dict()], tmp_path / "again").read_text() == page


def test_report_computes_nothing() -> None:
    source = Path(report.__file__).read_text()
    assert "numpy" not in source and "np." not in source


def test_terminal_lines_render_the_summary(result: VoteScaling) -> None:
    part = summary_of(result.to_dict())
    lines = summary_lines({"parts": [part], "calls_made": 7, "backend": "sim", "report": "r/index.html"})
    # the decision leads: PAPERS.md's inverse U (0.5, 0.85, 0.4) has its best K at 3 and falls after it
    assert lines[0].startswith("[bold]mix[/]: Use 3 calls per item:") and "more calls lose accuracy" in lines[0]
    assert lines[1].startswith("[bold]mix[/]: 200 items × 15 samples")
    assert f"MAE ours {part['mae_ours']:.4f} vs Chen et al.'s law {part['mae_chen']:.4f}" in lines[2]
    assert any("fitted on each block of 5 samples/item" in line for line in lines)
    assert lines[-2:] == ["calls made now: 7 on sim", "report: r/index.html"]


def test_a_registered_law_appears_in_the_record_and_the_report(tmp_path: Path) -> None:
    class Chen2(ChenLaw):
        label = "Chen again"

    register_law("chen2", Chen2)
    try:
        result = analyze_pools("mix", mixture_pools(60, 10, seed=1), fit_on=5, predict_to=12, n_boot=0)
    finally:
        unregister_law("chen2")
    assert result.law("chen2").curve == result.law("chen").curve
    d = result.to_dict()
    assert d["mae_chen2"] == d["mae_chen"] and d["k_star_chen2"] == d["k_star_chen"]
    assert all("mae_chen2" in b for b in d["blocks"])
    page = write_report([d], tmp_path / "r").read_text()
    assert "best K by Chen again" in page and "ours / Chen et al.&#x27;s law / Chen again" in page
