"""What people read in an 80-column terminal: every line fits, no name is cut ("…"), tables wrap or abbreviate
with a legend; `scale` prints each part's decision first and, by default, nothing but the decisions and the
report's path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app
from callscale.report import vote_scaling

runner = CliRunner()
NARROW = {"COLUMNS": "80"}


def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    result = runner.invoke(app, list(args), env=NARROW if env is None else env)
    assert result.exit_code == 0, result.stderr
    return result.stdout, result.stderr


def _fits(out: str, width: int = 80, *, paths: tuple[str, ...] = ()) -> list[str]:
    """The lines of ``out``, checked: none wider than ``width`` (a line naming a path excepted: paths are never
    broken) and nothing cut with "…"."""
    lines = out.splitlines()
    assert "…" not in out
    for line in lines:
        assert len(line) <= width or any(p in line for p in paths), line
    return lines


@pytest.fixture
def no_plots(monkeypatch: pytest.MonkeyPatch) -> None:
    """`scale` without drawing its report (the terminal is what is tested here)."""
    monkeypatch.setattr(vote_scaling, "write_report", lambda records, directory, title: directory / "index.html")


def test_run_cost_tables_fit_80_columns_with_whole_names_and_a_legend(tmp_path: Path) -> None:
    store = str(tmp_path / "s.sqlite")
    out, _ = _invoke("run", "--task", "arc_easy", "--backend", "simulated", "--network", "filter_vote", "--limit", "6",
                     "--k", "2", "--store", store)
    lines = _fits(out, paths=(store,))
    for name in ("filter_vote.generate", "filter_vote.filter", "smollm2-135m-instruct"):
        assert any(name in line for line in lines), name  # whole, on one line
    assert "made now" in out and "system cost (what the system costs fresh" in out  # short headers, explained
    assert lines[-1] == f"store: {store}"


def test_run_piped_without_columns_keeps_one_wide_table(tmp_path: Path) -> None:
    out, _ = _invoke("run", "--task", "arithmetic", "--backend", "simulated", "--limit", "4", "--k", "2",
                     "--store", str(tmp_path / "s.sqlite"), env={"COLUMNS": ""})
    assert "spent calls" in out and "continued" not in out and max(len(line) for line in out.splitlines()) > 80


SCALE = ("scale", "--task", "arithmetic", "--backend", "simulated", "--samples", "6", "--limit", "8", "--boot", "10",
         "--predict-to", "20")


def test_scale_prints_the_decision_first_then_the_report_and_nothing_else(tmp_path: Path, no_plots: None) -> None:
    out, err = _invoke(*SCALE, "--report", str(tmp_path / "r"), "--store", str(tmp_path / "s.sqlite"))
    report = str(tmp_path / "r" / "index.html")
    lines = _fits(out, paths=(report,))
    assert lines[0].startswith("arithmetic: ") and lines[-1] == f"report: {report}"
    assert "items ×" not in out and "best K:" not in out and "calls made now" not in out  # the decision alone
    assert "calls made now: 48 on simulated" in err  # notes on stderr


def test_scale_render_short_and_with_details(tmp_path: Path, no_plots: None, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from callscale.cli.scale import render

    summary = json.loads(_invoke(*SCALE, "--report", str(tmp_path / "r"), "--store", str(tmp_path / "s.sqlite"),
                                 "--json")[0])
    sentence = summary["parts"][0]["decision"]["sentence"]
    monkeypatch.setenv("COLUMNS", "80")
    render(summary)
    shown = capsys.readouterr()
    lines = _fits(shown.out, paths=(summary["report"],))
    assert shown.err == "calls made now: 48 on simulated\n"
    first = lines[: next(i for i, line in enumerate(lines) if line.startswith(("  ", "report: ")))]
    assert sentence and " ".join(" ".join(first).split()) == f"arithmetic: {sentence}"  # first, wrapped at 80, whole
    render(summary, details=True)
    lines = _fits(capsys.readouterr().out, paths=(summary["report"],))
    assert " ".join(lines).startswith(f"arithmetic: {sentence[:40]}") and "best K" in " ".join(lines)
    assert any(line.startswith("calls made now: 48") for line in lines) and lines[-1] == f"report: {summary['report']}"
    render(summary, notes=False)  # --quiet: no notes either
    assert capsys.readouterr().err == ""


def test_optimize_fits_80_columns(tmp_path: Path) -> None:
    out, _ = _invoke("optimize", "--trials", "3", "--store", str(tmp_path / "s.sqlite"))
    lines = _fits(out)
    assert lines[0].startswith("model search on agentts") and any(line.startswith("best: ") for line in lines)


def test_analyze_tables_fit_80_columns_with_whole_names() -> None:
    out, _ = _invoke("analyze", "routing", "--sizes", "2,4,8")
    lines = _fits(out)
    assert any("generalist" in line and "routed" in line for line in lines)  # the measured table's header
    assert any(line.startswith("generalist ") for line in lines)  # the fits table's first column


@pytest.mark.parametrize("width", [60, 80, 129])
def test_long_node_and_model_names_fold_and_no_number_is_cropped(width: int) -> None:
    import io

    from rich.console import Console

    from callscale.cli.common import cost_tables

    tally = {"calls": 3, "prompt_tokens": 100, "completion_tokens": 10, "forward_passes": 12, "primitive_cost": 10**9,
             "flops": 2e9, "dollars": 0.0123}
    line = {"node": "a_long_node_name_from_a_network_file.generate", "model": "meta-llama/Llama-3.1-70B-Instruct-Turbo",
            "cache_hits": 1, "depth": 7, "system": tally, "spent": tally}
    console = Console(file=io.StringIO(), width=width, record=True)
    for table in cost_tables({"lines": [line], "total": {**line, "node": "total", "model": "*"}}, width):
        console.print(table)
    text = console.export_text()
    lines = _fits(text, width)
    rules = [i for i, row in enumerate(lines) if row.startswith("───")]
    folded = "".join(row.split()[0] for row in lines[rules[0] + 1: rules[1]])  # the first table's first column
    assert folded == line["node"] + line["model"]  # folded across lines, never cut
    assert sum(row.rstrip().endswith(" 7") for row in lines) == 2 and sum("0.0123" in row for row in lines) == 2
