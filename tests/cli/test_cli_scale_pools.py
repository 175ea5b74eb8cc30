"""Answers recorded anywhere: `scale --pool` analyses JSONL, CSV or Parquet logs with no backend —
the same measured curve from each layout, equal to an exact subset average computed here, and on
the study's recorded pools the same numbers as the study's own report."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscale.cli import app
from callscale.logs import PoolFileError, read_pool_file
from callscale.study import SMALL

STUDY = Path(__file__).parents[2] / "studies" / "vote_scaling"
FIXTURE = Path(__file__).parents[1] / "data" / "study_small_summary.json"


def _write_logs(tmp_path: Path, items: int = 30, m: int = 6) -> list[tuple[str, str, list[str | None]]]:
    rng = random.Random(4)
    rows = []
    for i in range(items):
        p = rng.random()
        gold = str(i % 5)
        answers = [gold if rng.random() < p else (None if rng.random() < 0.15 else str(rng.randint(0, 6))) for _ in range(m)]
        rows.append((f"q{i}", gold, answers))
    (tmp_path / "log.jsonl").write_text("".join(json.dumps({"id": i, "gold": g, "answers": a}) + "\n" for i, g, a in rows))
    lines = ["item_id,sample,answer,gold"]
    shuffled = [(i, s, a, g) for i, g, answers in rows for s, a in enumerate(answers)]
    rng.shuffle(shuffled)  # long form in any order: `sample` orders each item's answers
    lines += [f"{i},{s},{'' if a is None else a},{g}" for i, s, a, g in shuffled]
    (tmp_path / "log.csv").write_text("\n".join(lines) + "\n")
    return rows


def _brute_vote_accuracy(gold: str, answers: list[str | None], k: int) -> float:
    """Average over every k-subset of the samples of plurality vote's score (ties 1/t, abstentions no vote)."""
    total, count = 0.0, 0
    for subset in itertools.combinations(answers, k):
        votes: dict[str, int] = {}
        for a in subset:
            if a is not None:
                votes[a] = votes.get(a, 0) + 1
        if votes:
            top = max(votes.values())
            tied = [a for a, c in votes.items() if c == top]
            total += (gold in tied) / len(tied)
        count += 1
    return total / count


def _scale(*args: str) -> dict:
    result = CliRunner().invoke(app, ["scale", *args, "--boot", "10", "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_jsonl_and_csv_give_the_exact_subset_average(tmp_path: Path) -> None:
    rows = _write_logs(tmp_path)
    out = _scale("--pool", str(tmp_path / "log.jsonl"), "--pool", str(tmp_path / "log.csv"), "--fit-on", "3",
                 "--report", str(tmp_path / "r"))
    a, b = out["parts"]
    assert out["calls_made"] == 0 and a["name"] == "log" and b["name"].endswith("log.csv")
    values = {k: v["value"] for k, v in a["curves"]["measured"].items()}
    # the CSV lists items in another order, so sums may differ in the last bit; bands are bootstraps seeded per part
    assert values == pytest.approx({k: v["value"] for k, v in b["curves"]["measured"].items()}, abs=1e-12)
    for k in range(1, 7):
        want = sum(_brute_vote_accuracy(g, ans, k) for _, g, ans in rows) / len(rows)
        assert a["curves"]["measured"][str(k)]["value"] == pytest.approx(want, abs=1e-12)
    law = a["curves"]["laws"][a["primary"]]
    assert all(v["lower"] <= v["value"] <= v["upper"] for v in law.values())
    assert (tmp_path / "r" / "index.html").is_file()


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow
    import pyarrow.parquet

    _write_logs(tmp_path)
    import csv

    with (tmp_path / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    table = pyarrow.Table.from_pylist([{**r, "sample": int(r["sample"]), "answer": r["answer"] or None} for r in rows])
    pyarrow.parquet.write_table(table, tmp_path / "log.parquet")
    assert read_pool_file(tmp_path / "log.parquet") == read_pool_file(tmp_path / "log.csv")


def test_the_studys_recorded_pools_give_the_studys_numbers(tmp_path: Path) -> None:
    """The committed arithmetic pool, cut to the small study's items and samples, analysed from the
    file gives the accuracies the small study's own report gives (tests/data fixture)."""
    part = SMALL[0]
    ids = [item.id for item in part.load().items]
    m = part.spec.samples
    rows = {json.loads(line)["id"]: json.loads(line) for line in (STUDY / "pools" / "arithmetic.jsonl").read_text().splitlines()}
    cut = tmp_path / "arithmetic.jsonl"
    cut.write_text("".join(json.dumps({**rows[i], "answers": rows[i]["answers"][:m]}) + "\n" for i in ids))
    got = _scale("--pool", str(cut), "--fit-on", "5", "--report", str(tmp_path / "r"))["parts"][0]
    want = next(p for p in json.loads(FIXTURE.read_text())["parts"] if p["name"] == "arithmetic")
    assert (got["items"], got["samples"]) == (want["items"], want["samples"])
    for key in ("accuracy_k1", "accuracy_kM", "k_star_measured", "easy_fraction", "hard_fraction"):
        assert got[key] == pytest.approx(want[key], abs=1e-12), key


@pytest.mark.parametrize(("name", "text", "words"), [
    ("ragged.jsonl", '{"id": "a", "gold": "1", "answers": ["1", "2"]}\n{"id": "b", "gold": "1", "answers": ["1"]}\n',
     "ragged.jsonl:2: field 'answers': item 'b' has 1 samples"),
    ("nogold.jsonl", '{"id": "a", "answers": ["1", "2"]}\n', "nogold.jsonl:1: field 'gold': missing"),
    ("notlist.jsonl", '{"id": "a", "gold": "1", "answers": "12"}\n', "notlist.jsonl:1: field 'answers'"),
    ("nocol.csv", "item_id,sample,answer\na,0,1\n", "nocol.csv:1: column 'gold' missing"),
    ("badsample.csv", "item_id,sample,answer,gold\na,x,1,1\n", "badsample.csv:2: field 'sample'"),
    ("gap.csv", "item_id,sample,answer,gold\na,0,1,1\na,2,1,1\n", "gap.csv:2: field 'sample': item 'a' has gaps"),
])
def test_bad_pool_files_are_one_line_exit_2(tmp_path: Path, name: str, text: str, words: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(PoolFileError, match=words.replace("(", r"\(")):
        read_pool_file(tmp_path / name)
    result = CliRunner().invoke(app, ["scale", "--pool", str(tmp_path / name), "--fit-on", "1",
                                      "--report", str(tmp_path / "r")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and words in result.stderr
    assert not (tmp_path / "r").exists()
