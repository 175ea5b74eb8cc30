"""``callscale analyze``: user errors exit 2 with one line; results, JSON and the plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asym_helpers import invoke


@pytest.mark.parametrize(("args", "message"), [
    (["nope"], "unknown example 'nope'"),
    (["routing", "--sizes", "2,x"], "--sizes must be comma-separated integers"),
    (["routing", "--sizes", "4"], "--sizes needs at least two different sizes"),
    (["routing", "--sizes", "4,4"], "--sizes needs at least two different sizes"),
    (["routing", "--sizes", "0,2"], "--sizes must be positive integers, got 0"),
    (["routing", "--sizes", "2,-3"], "--sizes must be positive integers, got -3"),
    (["routing", "--vary", "z"], "has no size 'z'"),
    (["routing", "--set", "z=3"], "has no size 'z'"),
    (["routing", "--set", "n"], "--set expects NAME=VALUE"),
    (["routing", "--set", "n=big"], "--set n must be an integer"),
    (["summarising", "--set", "b=1"], "size b must be at least 2"),
    (["routing", "--metric", "dollars"], "unknown metric 'dollars'"),
    (["routing", "--backend", "openai"], "unknown backend 'openai'"),
    (["missing.yaml"], "network file not found"),
])
def test_user_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    code, out, err = invoke(*args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert out == ""


def test_network_without_declared_structure(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text("name: plain\ndefaults: {model: sim}\nnodes:\n  - {id: g, op: generate}\n")
    code, _, err = invoke(str(path), "--sizes", "1,2")
    assert code == 2 and "declares no call structure that depends on 'k'" in err
    code, _, err = invoke(str(path), "--vary", "fan_in", "--sizes", "2,3")
    assert code == 2 and "has no size 'fan_in'" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    code, _, err = invoke(str(bad), "--sizes", "1,2")
    assert code == 2 and "not valid TOML" in err


def test_example_json_and_report(tmp_path: Path) -> None:
    code, out, _ = invoke("routing", "--sizes", "2,4,8", "--json", "--report", str(tmp_path / "rep"))
    assert code == 0
    result = json.loads(out)
    assert result["example"] == "routing" and result["exact"] and result["vary"] == "k"
    assert [r["size"] for r in result["rows"]] == [2, 4, 8]
    assert abs(result["checks"]["gain"]["slope"]["slope"] - 1) < 0.1
    assert result["symbolic"]["gain"]["at_fixed"]["growth"] == "1"
    assert Path(result["plot"]).read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "rep" / "routing.json").read_text())["example"] == "routing"


def test_human_output(tmp_path: Path) -> None:
    code, out, _ = invoke("debugging", "--vary", "b", "--sizes", "4,8,16", "--set", "k=4")
    assert code == 0
    for text in ("symbolic", "Θ(b**2*k**2*l**2*m_d)", "measured per size", "growth fits", "declared counts equal the "
                 "ledger's at every size: yes"):
        assert text in out


def test_network_file(tmp_path: Path) -> None:
    path = tmp_path / "ko.yaml"
    path.write_text("name: ko\ndefaults: {model: sim}\nstages:\n  - {id: gen, op: sample, k: 2}\n  - {id: pick, op: knockout}\n")
    code, out, _ = invoke(str(path), "--sizes", "2,4,8", "--json", "--report", str(tmp_path))
    assert code == 0
    result = json.loads(out)
    assert result["exact"] and [r["measured"]["ko"]["calls"] for r in result["rows"]] == [3, 7, 15]
    assert result["symbolic"]["decompositions"]["ko"]["cost"]["calls"] == "2*k - 1"
    assert (tmp_path / "ko.png").is_file()


def test_seeded_evolution_and_a_store(tmp_path: Path) -> None:
    code, out, _ = invoke("evolution", "--sizes", "2,3,4", "--seeds", "3", "--json", "--metric", "calls",
                          "--store", str(tmp_path / "s.sqlite"))
    assert code == 0
    result = json.loads(out)
    assert result["seeds"] == 3 and not result["exact"]
    assert (tmp_path / "s.sqlite").is_file()
