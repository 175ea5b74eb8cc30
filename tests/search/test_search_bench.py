"""Smoke test of bench/search_efficiency.py on a tiny setting."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search_efficiency.py"


def test_bench_runs_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("search_efficiency", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "search_efficiency", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    summary = module.main(
        [
            "--seeds",
            "1",
            "--budgets",
            "850",
            "--trials",
            "3",
            "--searchers",
            "random",
            "tpe",
            "model_based",
            "agent",
            "--quiet",
            "--plot",
            str(tmp_path / "r.png"),
        ]
    )
    out = capsys.readouterr().out
    assert "heuristic_llm" in out and "rule-based stand-in" in out
    assert "ratio model_based/tpe trials_to_optimum" in out
    assert summary["overall"]["model_based"]["found"] == 1
    assert (tmp_path / "r.png").exists()
