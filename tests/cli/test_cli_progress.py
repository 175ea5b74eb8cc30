"""Progress on stderr: the meters' lines (a fake clock, no timing), where progress is drawn (a terminal on
stderr, --json included), where it never is (stdout), and --quiet."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from callscale.backends.simulated import SimulatedBackend
from callscale.cli import app, common
from callscale.cli.progress import CallMeter, Counts, TrialMeter, call_progress, fit_line, search_progress, shown
from callscale.engine import Engine
from callscale.records import ModelCard, Request
from callscale.report import vote_scaling
from callscale.search.archive import Trial
from callscale.search.space import Config

runner = CliRunner()


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _meter(total: int | None, counts: Counts, clock: FakeClock) -> CallMeter:
    meter = CallMeter("pools for arithmetic", total, clock)
    meter.count = lambda: counts  # type: ignore[method-assign]
    return meter


def test_a_planned_total_shows_percentage_rate_time_left_and_cost() -> None:
    clock = FakeClock()
    meter = _meter(400, Counts(done=100, made=80, hits=20, dollars=0.0123), clock)
    clock.now += 20.0
    line = str(meter.render(120))
    assert line.startswith("pools for arithmetic  25% ━")
    assert "100/400" in line and "4.0 calls/s" in line and "1:00 left" in line  # 300 more at 5 per second
    assert "made 80 ($0.01)" in line and "20 from store" in line
    assert len(line) <= 120


def test_the_finished_line_says_how_long_it_took() -> None:
    clock = FakeClock()
    meter = _meter(50, Counts(done=50, made=50), clock)
    clock.now += 75.0
    line = str(meter.render(80))
    assert "100%" in line and "done in 1:15" in line and "left" not in line


def test_without_a_total_a_counter_with_rate_and_no_percentage() -> None:
    clock = FakeClock()
    meter = _meter(None, Counts(done=30, made=30, failed=2, retries=1), clock)
    clock.now += 10.0
    line = str(meter.render(100))
    assert "%" not in line and "30 calls" in line and "3.0 calls/s" in line and "0:10" in line
    assert "2 failed" in line and "1 retries" in line and "$" not in line  # unknown prices: no dollars, never $0


@pytest.mark.parametrize("width", [40, 60, 80, 100, 160])
def test_the_line_fits_the_width_dropping_the_bar_before_the_cost(width: int) -> None:
    clock = FakeClock()
    meter = _meter(1000, Counts(done=500, made=500, dollars=1.5), clock)
    clock.now += 50.0
    line = str(meter.render(width))
    assert len(line) <= width and "50%" in line
    if width >= 80:
        assert "made 500 ($1.50)" in line  # the cost stays; at 80 columns the bar may go
    assert ("━" in line) == (width >= 100)


def test_fit_line_keeps_the_head_and_first_part_however_narrow() -> None:
    assert str(fit_line("label", None, ["1 calls", "2.0 calls/s"], 5)) == "label  1 calls"


def test_the_trial_line_follows_a_search() -> None:
    clock = FakeClock()
    meter = TrialMeter(10, clock)
    assert str(meter.render(80)).startswith("trial 1 of 10  0%")
    for number, (score, cost) in enumerate([(0.41, 5000.0), (0.62, 4000.0), (0.55, 3000.0)], start=1):
        clock.now += 4.0
        meter(Trial("s", number, Config.of(("3B", number)), "finished", score=score, cost=cost))
    line = str(meter.render(80))
    assert line.startswith("trial 4 of 10  30%")
    assert "best so far 0.62" in line and "cost 1.2e4" in line and "0:28 left" in line  # 7 more at 4 s each
    assert len(line) <= 80
    for number in range(4, 11):
        clock.now += 4.0
        meter(Trial("s", number, Config.of(("3B", number)), "failed"))
    line = str(meter.render(80))
    assert line.startswith("trial 10 of 10  100%") and "best so far 0.62" in line and "done in 0:40" in line


def test_engine_calls_are_counted_toward_the_plan_with_dollars_from_the_ledger() -> None:
    card = ModelCard("sim", params=1, price_in_per_mtok=1.0, price_out_per_mtok=2.0)
    engine = Engine(SimulatedBackend.constant({"A": 1.0}), cards={"sim": card})
    clock = FakeClock()
    with call_progress("vote", engine, total=8, enabled=False, clock=clock) as meter:
        asyncio.run(engine.complete(Request.chat("sim", "q"), 4))
        clock.now += 2.0
        line = str(meter.render(120))
    assert "50%" in line and "4/8" in line and "2.0 calls/s" in line and re.search(r"made 4 \(\$0\.\d{4}\)", line)
    asyncio.run(engine.complete(Request.chat("sim", "q"), 8))  # 4 from the store, 4 new
    counts = meter.count()
    assert (counts.done, counts.made, counts.hits) == (12, 8, 4) and counts.dollars is not None


# -- where progress is drawn --------------------------------------------------------------------
@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """stderr as an 80-column terminal writing into a buffer."""
    buffer = io.StringIO()
    monkeypatch.setattr(common, "stderr", Console(file=buffer, force_terminal=True, width=80, highlight=False))
    yield buffer


def test_progress_only_on_a_terminal_and_never_with_quiet(terminal: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    assert shown() and not shown(enabled=False)
    monkeypatch.setattr(common, "stderr", Console(file=io.StringIO(), force_terminal=False))
    assert not shown()


def test_run_with_json_draws_progress_on_stderr_not_stdout(terminal: io.StringIO, tmp_path: Path) -> None:
    args = ["run", "--task", "arithmetic", "--backend", "simulated", "--limit", "10", "--k", "3",
            "--store", str(tmp_path / "s.sqlite"), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    drawn = terminal.getvalue()
    assert "vote-k3 on arithmetic" in drawn and "100%" in drawn and "30/30" in drawn and "calls/s" in drawn
    assert json.loads(result.stdout)["calls_made"] == 30  # stdout is the JSON alone
    assert "calls/s" not in result.stdout and "calls/s" not in result.stderr
    terminal.truncate(0)
    terminal.seek(0)
    quiet = runner.invoke(app, [*args, "--quiet"])
    assert quiet.exit_code == 0 and terminal.getvalue() == "" and json.loads(quiet.stdout)["calls_made"] == 0


def test_scale_draws_a_percentage_per_part(terminal: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vote_scaling, "write_report", lambda records, directory, title: directory / "index.html")
    result = runner.invoke(app, ["scale", "--task", "arithmetic", "--backend", "simulated", "--samples", "6", "--limit",
                                 "8", "--boot", "10", "--predict-to", "20", "--report", str(tmp_path / "r"),
                                 "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0, result.stderr
    drawn = terminal.getvalue()
    assert "pools for arithmetic" in drawn and "100%" in drawn and "48/48" in drawn
    assert "calls/s" not in result.stdout and "%" not in result.stdout.splitlines()[-1]


def test_optimize_draws_the_trial_line_and_quiet_silences_it(terminal: io.StringIO, tmp_path: Path) -> None:
    args = ["optimize", "--trials", "3", "--store", str(tmp_path / "s.sqlite")]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    drawn = terminal.getvalue()
    assert "trial 3 of 3" in drawn and "100%" in drawn and "best so far" in drawn and "cost " in drawn
    assert json.loads(result.stdout)["trials"] == 3 and "best so far" not in result.stdout
    terminal.truncate(0)
    terminal.seek(0)
    result = runner.invoke(app, [*args, "--seed", "1", "--quiet"])
    assert result.exit_code == 0 and terminal.getvalue() == ""


def test_search_progress_is_the_on_trial_callback_of_run_search() -> None:
    from callscale.search.base import run_search
    from callscale.search.environments.simulated import AgentTTSBenchmark
    from callscale.search.searchers.random import RandomSearcher

    bench = AgentTTSBenchmark()
    with search_progress(4, enabled=False) as meter:
        result = run_search(bench, RandomSearcher(bench.space, 900, seed=3), n_trials=4, on_trial=meter)
    assert meter.done == 4 and [t.number for t in meter.trials] == [t.number for t in result.trials]
    assert f"best so far {result.best.score:.3g}" in str(meter.render(100))  # type: ignore[union-attr]
