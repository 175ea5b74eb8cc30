"""The asymptotic and search reports share the vote-scaling report's look: one self-contained page that
leads with what was found, then one large plot, a short table, and everything else collapsed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pagecheck import check_part, check_self_contained, images, parse, parts

from callscale.asymptotic.examples import analyze_example, get_example
from callscale.report import asymptotic, look, search


@pytest.fixture(scope="module")
def routing() -> dict[str, Any]:
    analysis = asyncio.run(analyze_example(get_example("routing"), [2, 4, 8], symbolic=True))
    return json.loads(json.dumps(analysis.to_dict(), default=str))  # what --json prints, read back


@pytest.fixture(scope="module")
def routing_page(tmp_path_factory: pytest.TempPathFactory, routing: dict[str, Any]) -> Path:
    return asymptotic.write_html(routing, tmp_path_factory.mktemp("asymptotic") / "routing.html")


def test_the_asymptotic_page_leads_with_what_the_analysis_found(routing_page: Path, routing: dict[str, Any]) -> None:
    page = routing_page.read_text(encoding="utf-8")
    root = check_self_contained(page, routing_page.parent)
    (part,) = parts(root)
    sentence = asymptotic.sentence(routing)
    assert sentence.startswith("routed needs 7.85× less forward-pass cost Σ m·context than generalist at k = 8")
    assert "declared counts equal the ledger's at every size" in sentence
    check_part(part, sentence)
    rows = part.find_all("table", "what-if")[0].find_all("tr")
    assert [r.elements()[0].text() for r in rows] == ["k", "2", "4", "8"]
    labels = [d.find_all("summary")[0].text() for d in part.find_all("details")]
    assert labels == ["Symbolic cost", "Calls, tokens and depth per size", "Growth fits", "What each run reported",
                      "Settings and notes"]
    assert [mime for mime, _ in images(part)] == ["image/svg+xml", "image/png"]
    assert not root.find_all("nav")  # one analysis: no index


def test_the_asymptotic_plot_keeps_its_file_and_uses_the_palette(tmp_path: Path, routing: dict[str, Any],
                                                                  routing_page: Path) -> None:
    png = asymptotic.plot_analysis(routing, tmp_path / "a.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = routing_page.read_text(encoding="utf-8")
    svg = next(data for mime, data in images(parse(page)) if mime == "image/svg+xml").decode()
    assert look.PALETTE["blue"].lower() in svg.lower() and "tab:red" not in svg


SEARCH = {
    "task": "agentts", "searcher": "model", "budget": 900.0, "trials": 8, "skipped": 0,
    "best": {"config": {"retrieval": {"model": "72B", "samples": 2}, "qa": {"model": "3B", "samples": 8}},
             "train_score": 0.797, "cost": 872.0, "trial": 6},
    "test_score": 0.79, "configurations_within_budget": 37381,
    "optimum": {"config": {"retrieval": {"model": "72B", "samples": 2}, "qa": {"model": "3B", "samples": 8}},
                "score": 0.797},
    "trials_to_optimum": 6, "final_regret": 0.0, "searcher_stats": {"fits": 3},
}


def test_the_search_page_leads_with_the_configuration_to_use(tmp_path: Path) -> None:
    curves = {"model": [[0.1, 0.05, 0.05, 0.02, 0.02, 0.0, 0.0, 0.0]]}
    path = search.write_html(SEARCH, curves, tmp_path / "search.html")
    root = check_self_contained(path.read_text(encoding="utf-8"), tmp_path)
    (part,) = parts(root)
    sentence = search.sentence(SEARCH)
    assert sentence == ("Use retrieval 72B × 2, qa 3B × 8: score 0.797 at cost 872 (budget 900), test score 0.790; "
                        "the model search found the optimum at trial 6 of 8.")
    check_part(part, sentence)
    rows = [[c.text() for c in r.elements()] for r in part.find_all("table", "what-if")[0].find_all("tr")]
    assert rows[1][:2] == ["best found", "retrieval 72B × 2, qa 3B × 8"] and rows[2][0] == "optimum within the budget"
    labels = [d.find_all("summary")[0].text() for d in part.find_all("details")]
    assert labels == ["Search settings", "Searcher statistics"]


def test_a_live_search_says_its_optimum_is_unknown() -> None:
    live = {k: v for k, v in SEARCH.items() if k not in ("optimum", "trials_to_optimum", "final_regret")}
    assert search.sentence(live).endswith("the best of 8 trials of the model search (the optimum of a live task is unknown).")
    missed = {**SEARCH, "trials_to_optimum": None, "final_regret": 0.0125}
    assert "did not find the optimum (retrieval 72B × 2, qa 3B × 8, score 0.797) in 8 trials (regret 0.0125)" in \
        search.sentence(missed)
    assert search.sentence({**SEARCH, "best": None}).startswith("No configuration was scored within the budget 900")


def test_the_regret_plot_keeps_writing_its_png(tmp_path: Path) -> None:
    out = Path(search.plot_regret({"random": [[0.2, 0.1], [0.3, 0.0]]}, tmp_path / "sub" / "regret.png"))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
