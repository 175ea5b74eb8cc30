from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from callscale.cli import app
from callscale.cli.theory import parse_ks

runner = CliRunner()


def test_theory_vote_reproduces_the_paper_targets() -> None:
    result = runner.invoke(app, ["theory", "vote", "--alpha", "0.5", "--p-easy", "0.85", "--p-hard", "0.4",
                                 "--k", "1,3,5,9,15,31,101", "--json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert [round(v, 4) for v in out["accuracy"].values()] == [0.625, 0.6456, 0.6454, 0.6305, 0.6062, 0.5642, 0.5104]
    assert out["shape"] == "inverse_u" and out["best_k"] == 3 and round(out["threshold"], 4) == 0.3497


def test_theory_vote_u_shape_has_no_finite_best_k() -> None:
    result = runner.invoke(app, ["theory", "vote", "--alpha", "0.5", "--p-easy", "0.65", "--p-hard", "0.1", "--json"])
    out = json.loads(result.stdout)
    assert out["shape"] == "u" and out["best_k"] is None and round(out["threshold"], 4) == 0.5134


@pytest.mark.parametrize("args", [["--alpha", "1.5"], ["--p-easy", "0.4"], ["--p-hard", "0.7"], ["--k", "1,x"], ["--k", "0"]])
def test_theory_vote_bad_input(args: list[str]) -> None:
    base = {"--alpha": "0.5", "--p-easy": "0.8", "--p-hard": "0.2"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for kv in base.items() for x in kv]
    if "--k" not in base:
        flat += ["--k", "1,3"]
    result = runner.invoke(app, ["theory", "vote", *flat])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")


def test_parse_ks() -> None:
    assert parse_ks("5,1-3") == [1, 2, 3, 5]


# ------------------------------------------------------------------ theory adaptive


def test_theory_adaptive_matches_the_closed_form() -> None:
    from callscale.scaling.adaptive import ahead_closed_form

    result = runner.invoke(app, ["theory", "adaptive", "--rule", "ahead:3", "--dist", "0.7,0.3", "--abstain", "0.2",
                                 "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    acc, calls = ahead_closed_form(0.7, 3, abstain=0.2)
    assert abs(out["accuracy"] - acc) < 1e-9 and abs(out["expected_calls"] - calls) < 1e-9
    q = out["calls_quantiles"]
    assert 3 <= q["median"] <= q["p90"] <= q["p99"] and out["truncated_mass"] <= 1e-12
    assert out["probs"] == [0.7 * 0.8, 0.3 * 0.8] and out["abstain"] == 0.2


def test_theory_adaptive_human_output_and_cap() -> None:
    result = runner.invoke(app, ["theory", "adaptive", "--rule", "posterior:0.9", "--dist", "0.5,0.3,0.1",
                                 "--max", "16"])
    assert result.exit_code == 0, result.stderr
    for word in ("posterior:0.9,max:16", "accuracy", "expected_calls", "median", "90 %", "99 %", "cap reached",
                 "truncated mass"):
        assert word in result.stdout
    same = runner.invoke(app, ["theory", "adaptive", "--rule", "posterior:0.9,max:16", "--dist", "0.5,0.3,0.1",
                               "--max", "16", "--json"])
    assert json.loads(same.stdout)["rule"] == "posterior:0.9,max:16"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--rule", "ahead:0"], "k must be"),
        (["--rule", "ahead:x"], "k must be"),
        (["--rule", "posterior:1.5"], "q must lie strictly between 0.5 and 1"),
        (["--rule", "nope:3"], "unknown rule"),
        (["--dist", "0.7,0.5"], "sum to 1.2"),
        (["--dist", "0.7,-0.3"], "non-negative"),
        (["--dist", "0.7,x"], "not a number"),
        (["--dist", "0.6,0.3", "--abstain", "0.2"], "must sum to 1 or to 0.8"),
        (["--abstain", "1.5"], "abstention share"),
        (["--max", "0"], "--max"),
        (["--rule", "ahead:2,max:3", "--max", "4"], "given twice"),
        (["--dist", "0,0"], "never stops"),
    ],
)
def test_theory_adaptive_bad_input(args: list[str], says: str) -> None:
    base = {"--rule": "ahead:2", "--dist": "0.7,0.3"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for kv in base.items() for x in kv]
    result = runner.invoke(app, ["theory", "adaptive", *flat])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and says in result.stderr and result.stderr.count("\n") == 1
