"""The vote-scaling report renders the analysis record's dict: one self-contained page led by each task's
decision and its one large plot, summary.json, and the terminal lines."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pagecheck import check_part, check_self_contained, images, parse, parts

from callscale.report import vote_scaling as report
from callscale.report.vote_scaling import render_html, summary_lines, write_report
from callscale.scaling.adaptive_pools import adaptive_frontier
from callscale.scaling.analysis import VoteScaling, analyze_pools, summary_of
from callscale.scaling.estimate import PoolItem
from callscale.scaling.laws import ChenLaw, get_law, law_names, register_law, unregister_law


def mixture_pools(n: int, m: int, seed: int = 0) -> list[PoolItem]:
    rng = np.random.default_rng(seed)
    return [PoolItem(str(i), "R", tuple("R" if rng.random() < (0.85 if i < n / 2 else 0.4) else "W" for _ in range(m)))
            for i in range(n)]


POOLS = mixture_pools(200, 15)


@pytest.fixture(scope="module")
def result() -> VoteScaling:
    return analyze_pools("mix", POOLS, fit_on=5, predict_to=40, n_boot=20)


@pytest.fixture(scope="module")
def records(result: VoteScaling) -> list[dict[str, Any]]:
    """Two tasks: the analysis without an adaptive-voting frontier, and with one and a price per call."""
    record = result.to_dict()
    frontier = record.get("frontier") or adaptive_frontier(POOLS, name="mix").to_dict()
    plain = {**record, "frontier": None}
    return [plain, {**plain, "name": "mix adaptive", "frontier": frontier, "cost_per_call": {"dollars": 0.0004}}]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, Any]]) -> tuple[Path, str]:
    path = write_report(records, tmp_path_factory.mktemp("report") / "r", title="Vote scaling — mix")
    return path, path.read_text(encoding="utf-8")


def _svg(part: Any, hero: bool = True) -> str:
    figure = part.find_all("figure", "hero")[0] if hero else part
    return next(data for mime, data in images(figure) if mime == "image/svg+xml").decode()


def test_each_task_opens_with_its_decision_then_one_large_plot_and_a_what_if_table(
        written: tuple[Path, str], records: list[Mapping[str, Any]]) -> None:
    root = parse(written[1])
    sections = parts(root)
    assert [s.attrs["id"] for s in sections] == ["mix", "mix-adaptive"]
    for section, record in zip(sections, records, strict=True):
        check_part(section, record["decision"]["sentence"])
    assert records[0]["decision"]["sentence"].startswith("Use 3 calls per item:")
    # the what-if table: K → accuracy interval, calls per item (no cost: the record does not know it)
    table = sections[0].find_all("table", "what-if")[0]
    header = [th.text() for th in table.find_all("thead")[0].find_all("th")]
    assert header == ["what you do", "calls per item", "predicted accuracy (90 % interval)", "measured on 15 samples/item"]
    rows = [[c.text() for c in tr.elements()] for tr in table.find_all("tbody")[0].find_all("tr")]
    assert [r[0] for r in rows] == ["vote over K = 1", "vote over K = 5", "vote over K = 10", "vote over K = 30"]
    assert rows[1][1] == "5" and rows[1][2].endswith(" %)") and rows[3][3] == "—"  # K = 30 lies beyond the pool


def test_the_page_is_one_self_contained_file(written: tuple[Path, str]) -> None:
    path, page = written
    root = check_self_contained(page, path.parent)
    assert sorted(p.name for p in path.parent.iterdir()) == ["index.html", "summary.json"]  # no loose plot files
    assert "summary.json" not in [n.attrs.get("href") for n in root.find_all("a")]
    for section in parts(root):
        for figure in section.find_all("figure"):
            kinds = [mime for mime, _ in images(figure)]
            assert kinds == ["image/svg+xml", "image/png"]  # SVG shown, the same plot offered as PNG
            png = images(figure)[1][1]
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            assert figure.find_all("a", "png")[0].attrs["download"].endswith(".png")


def test_an_index_leads_a_page_with_several_tasks(written: tuple[Path, str], result: VoteScaling) -> None:
    root = parse(written[1])
    links = root.find_all("nav", "index")[0].find_all("a")
    assert [a.attrs["href"] for a in links] == ["#mix", "#mix-adaptive"]
    assert "use K = 3" in root.find_all("nav", "index")[0].text()
    one = render_html([result.to_dict() | {"frontier": None}])  # one task: no index
    assert not parse(one).find_all("nav")
    section = one[one.index('<section class="part" id="mix">'):one.index("</section>") + 10]
    assert section in written[1]


def test_the_large_plot_marks_the_choice_and_shows_the_frontier_and_cost_when_known(written: tuple[Path, str],
                                                                                   records: list[Mapping[str, Any]]) -> None:
    plain, adaptive = parts(parse(written[1]))
    svg = _svg(plain)
    assert "chosen: K = 3" in svg and "use K = 3" in svg and "measured on 200 items" in svg
    assert "predicted from all 15 samples/item" in svg
    assert "adaptive voting" not in svg and "dollars per item" not in svg
    svg = _svg(adaptive)
    assert "adaptive voting rules (Pareto front, mean calls)" in svg and "dollars per item" in svg
    frontier = records[1]["frontier"]
    rows = [[c.text() for c in tr.elements()] for tr in adaptive.find_all("table", "what-if")[0].find_all("tr")]
    assert rows[0][-1] == "dollars per item" and rows[2][-1] == "$0.002"  # K = 5 at $0.0004 a call
    # one adaptive row: the cheapest rule reaching the best fixed K's accuracy, else the most accurate on the
    # Pareto front (all rules are listed below)
    shown = frontier["cheapest"] or max((r for r in frontier["rules"] if r["rule"] in frontier["pareto"]),
                                        key=lambda r: r["shuffled_accuracy"])
    assert [r[0] for r in rows if r[0].startswith("adaptive")] == [f"adaptive: {shown['rule']}"]
    assert rows[-1][1] == f"{round(shown['shuffled_calls'], 2):g}"


def test_everything_else_is_collapsed_below_with_plain_labels(written: tuple[Path, str]) -> None:
    page = written[1]
    plain, adaptive = parts(parse(page))
    labels = [d.find_all("summary")[0].text() for d in plain.find_all("details")]
    assert labels == ["Measured curve in detail", "Prediction laws compared", "Refits on other samples",
                      "Prior and smoothing", "What the samples cannot decide", "How sure the advice is",
                      "Calls and sampling settings"]
    assert "Adaptive voting rules" in [d.find_all("summary")[0].text() for d in adaptive.find_all("details")]
    text = plain.text()
    for phrase in ("fitted on each disjoint block of 5 samples/item", "90 % interval over item resamples",
                   "best K by Chen et al.'s law", "chosen by cross-validation", "likelihood range"):
        assert phrase in text, phrase
    assert "@media print" in page and "details::details-content" in page and "beforeprint" in page


def test_a_record_without_a_decision_leads_with_its_best_k(records: list[Mapping[str, Any]]) -> None:
    record = {**records[0], "decision": {}}
    assert report._sentence(record).startswith(f"Best K predicted from 5 samples per item: {record['k_star_predicted']}")
    table = parse(report._what_if(record))
    rows = [[c.text() for c in tr.elements()] for tr in table.find_all("tr")]
    assert rows[0][2] == "predicted accuracy" and [r[0] for r in rows[1:]] == ["vote over K = 1", "vote over K = 5",
                                                                              "vote over K = 10", "vote over K = 30"]


def test_the_cost_column_follows_what_the_record_knows(records: list[Mapping[str, Any]]) -> None:
    def header_and_k5(record: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        rows = [[c.text() for c in tr.elements()] for tr in parse(report._what_if(record)).find_all("tr")]
        return rows[0], rows[2]

    header, k5 = header_and_k5({**records[0], "cost_per_call": {"dollars": None, "flops": 2e11}})
    assert header[-1] == "FLOPs per item" and k5[-1] == "1e+12"
    header, _ = header_and_k5({**records[0], "cost_per_call": {"dollars": 0}})  # unknown is not free: no column
    assert header[-1] == "measured on 15 samples/item"


def test_an_unsettled_decision_shows_where_the_best_k_may_lie(records: list[Mapping[str, Any]]) -> None:
    decision = {**records[0]["decision"], "settled": False, "k": None, "k_star_interval": [4, 40], "k_within": 6}
    svg = report._hero({**records[0], "decision": decision}).svg
    assert "best K somewhere in 4–40 (not settled)" in svg and "chosen:" not in svg


def test_summary_json_holds_the_records(written: tuple[Path, str], result: VoteScaling) -> None:
    summary = json.loads((written[0].parent / "summary.json").read_text())
    assert summary[0] == json.loads(json.dumps({**result.to_dict(), "frontier": None}))
    assert summary[0]["k"] == list(range(1, 16)) and [b["offset"] for b in summary[0]["blocks"]] == [0, 5, 10]


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


def test_a_registered_law_appears_in_the_record_and_the_report() -> None:
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
    shown = dict(report._prediction_rows(d))  # the rows of the collapsed "Prediction laws compared"
    assert "best K by Chen again" in shown
    labels = " / ".join(get_law(name).label for name in law_names() if get_law(name).target == "vote")
    assert f"MAE of the predicted curve, K ≤ M ({labels} / Chen again)" in shown
    assert "MAE Chen again" in report._blocks(d)
