"""The CLI conventions: results on stdout (--json), exit code 2 and one clear line for user errors,
nothing written when the input is bad."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_simulated_run_reports_and_reuses_the_store(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    code, out, _ = invoke("run", "--task", "arithmetic", "--backend", "simulated", "--limit", "40", "--k", "3",
                          "--store", str(store), "--json")
    assert code == 0
    first = json.loads(out)
    assert first["items"] == 40 and first["declared_calls"] == 120 == first["calls_made"]
    assert 0.0 <= first["accuracy_ci95"][0] <= first["accuracy"] <= first["accuracy_ci95"][1] <= 1.0
    code, out, _ = invoke("run", "--task", "arithmetic", "--backend", "simulated", "--limit", "40", "--k", "5",
                          "--store", str(store), "--json")
    second = json.loads(out)
    assert second["calls_made"] == 80  # samples 0–2 of every pool came from the store
    assert second["ledger"]["total"]["cache_hits"] == 120


def test_human_output_has_accuracy_and_cost_table(tmp_path: Path) -> None:
    code, out, _ = invoke("run", "--task", "arc_easy", "--backend", "simulated", "--network", "filter_vote", "--limit",
                          "10", "--k", "2", "--store", str(tmp_path / "s.sqlite"))
    assert code == 0
    assert "accuracy" in out and "filter_vote.filter" in out and "declared 40, measured 40" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "nope"], "unknown backend 'nope'"),
        (["--backend", "local", "--model", "gpt-9"], "unknown local model 'gpt-9'"),
        (["--backend", "openai", "--model", "m"], "needs --base-url"),
        (["--backend", "openai", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"], "cannot reach the server"),
        (["--backend", "replay", "--replay", "missing.jsonl"], "needs an existing --replay file"),
        (["--task", "no_such_task"], "no_such_task"),
        (["--network", "no_such_network"], "unknown network 'no_such_network'"),
    ],
)
def test_bad_input_is_one_clear_line_exit_2_nothing_written(tmp_path: Path, args: list[str], message: str) -> None:
    store = tmp_path / "never.sqlite"
    base = ["run", "--task", "arithmetic", "--limit", "2", "--store", str(store)]
    if "--task" in args:
        base = ["run", "--limit", "2", "--store", str(store)]
    code, out, err = invoke(*base, *args)
    assert code == 2
    assert message in err and err.strip().count("\n") == 0
    assert out == "" and not store.exists()


def test_malformed_network_file_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "net.yaml"
    bad.write_text("name: x\nstages:\n  - {id: gen, op: sample, k: 3, kk: 2}\n")
    code, _, err = invoke("run", "--task", "arithmetic", "--network", str(bad), "--store", str(tmp_path / "s.sqlite"))
    assert code == 2 and "net.yaml: stages[0] (gen): unknown fields ['kk']" in err
    assert not (tmp_path / "s.sqlite").exists()


def test_bad_task_file_names_line(tmp_path: Path) -> None:
    bad = tmp_path / "items.jsonl"
    bad.write_text('{"id": "a", "question": "1+1", "answer": "2"}\n{"id": "b", "question": "2+2"}\n')
    code, _, err = invoke("run", "--task", str(bad), "--backend", "simulated", "--store", str(tmp_path / "s.sqlite"))
    assert code == 2 and "items.jsonl:2" in err and "answer" in err


def test_tasks_listing() -> None:
    code, out, _ = invoke("tasks", "--json")
    names = {t["name"] for t in json.loads(out)["tasks"]}
    assert code == 0 and {"arc_easy", "arithmetic", "gsm8k"} <= names
