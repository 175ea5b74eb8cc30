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
