"""`callscale scale --more N`: further samples where they narrow the prediction, before/after in the JSON and
the terminal, nothing paid twice on a rerun, and one-line errors for what cannot be done."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from callscale.cli import app
from callscale.cli.scale import more_lines

runner = CliRunner()


def _stub_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report is not what these tests check: a stub in place of its plots keeps each test fast."""
    def write(records: list[dict[str, object]], directory: Path, title: str = "") -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "index.html").write_text(title)
        return directory / "index.html"

    monkeypatch.setattr("callscale.report.vote_scaling.write_report", write)


@pytest.fixture(autouse=True)
def _no_plots(monkeypatch: pytest.MonkeyPatch) -> None:
    _stub_report(monkeypatch)

SMALL = ["scale", "--task", "arithmetic", "--backend", "simulated", "--samples", "3", "--fit-on", "2", "--limit", "8",
         "--predict-to", "15", "--boot", "10", "--quiet"]


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], dict[str, Any]]:
    """One ``--more`` run (its arguments and its JSON), shared by the tests on it."""
    tmp = tmp_path_factory.mktemp("more")
    args = [*SMALL, "--more", "12", "--more-target", "9", "--store", str(tmp / "s.sqlite"), "--report", str(tmp / "r")]
    with pytest.MonkeyPatch.context() as patch:
        _stub_report(patch)
        result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    return args, json.loads(result.stdout)


def test_more_reports_before_and_after(first: tuple[list[str], dict[str, Any]]) -> None:
    out = first[1]
    more = out["parts"][0]["more"]
    assert out["calls_made"] == 8 * 3 + 12
    assert (more["requested"], more["calls"], more["made_now"], more["plan"], more["target_k"]) == (12, 12, 12,
                                                                                                   "targeted", 9)
    for view in (more["before"], more["after"]):
        assert view["band_k"] == 9 and 0 <= view["band"][0] <= view["band"][1] <= 1
        assert view["half_width"] == pytest.approx((view["band"][1] - view["band"][0]) / 2)
        assert view["k_star_interval"][0] <= view["k_star_interval"][1]


def test_a_rerun_with_the_same_more_makes_no_new_calls(first: tuple[list[str], dict[str, Any]]) -> None:
    again = runner.invoke(app, [a for a in first[0] if a != "--quiet"])  # the terminal, and its note on calls made
    assert again.exit_code == 0, again.stderr
    assert "--more 12: best K interval" in again.stdout and "(12 calls, targeted)" in again.stdout
    assert "calls made now: 0 on" in again.stderr


def test_uniform_plan_spreads_the_calls(tmp_path: Path) -> None:
    args = [*SMALL, "--more", "8", "--more-target", "9", "--more-plan", "uniform", "--store",
            str(tmp_path / "s.sqlite"), "--report", str(tmp_path / "r"), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["calls_made"] == 8 * 3 + 8 and out["parts"][0]["more"]["plan"] == "uniform"


@pytest.mark.parametrize(("extra", "message"), [
    (["--more", "-1"], "--more must be ≥ 0, got -1"),
    (["--more", "10", "--more-plan", "random"], "--more-plan must be 'targeted' or 'uniform'"),
    (["--more", "10", "--more-cap", "3"], "--more-cap must lie above --samples 3"),
    (["--more-target", "9"], "--more-target and --more-cap need --more N"),
    (["--more", "1000", "--more-target", "9"], "does not fit under --more-cap 12"),
])
def test_bad_more_is_one_line_exit_2(tmp_path: Path, extra: list[str], message: str) -> None:
    result = runner.invoke(app, [*SMALL, *extra, "--store", str(tmp_path / "s.sqlite"), "--report",
                                 str(tmp_path / "r")])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_more_with_recorded_pools_is_refused(tmp_path: Path) -> None:
    pool = tmp_path / "p.jsonl"
    pool.write_text("".join(json.dumps({"id": str(i), "gold": "4", "answers": ["4", "5", "4"]}) + "\n"
                            for i in range(4)))
    result = runner.invoke(app, ["scale", "--pool", str(pool), "--more", "5", "--report", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "--more draws new samples" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_terminal_line() -> None:
    view = {"k_star_interval": [7, 1000], "band_k": 30, "half_width": 0.041}
    part = {"more": {"requested": 500, "calls": 500, "plan": "targeted", "before": view,
                     "after": {**view, "k_star_interval": [9, 40], "half_width": 0.022}}}
    assert more_lines(part) == ["  --more 500: best K interval 7–1000 → 9–40; band at K=30 ±4.1 → ±2.2 points "
                                "(500 calls, targeted)"]
    settled = {"more": {**part["more"], "calls": 0}}
    assert more_lines(settled) == ["  --more 500: the decision was already settled; no more calls"]
    assert more_lines({}) == []
