"""The shared look: palette, figures as data URIs, the page shell and its print rules."""

from __future__ import annotations

import base64

from pagecheck import check_self_contained, parse

from callscale.report import look

OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}


def test_plots_cycle_through_the_okabe_ito_palette() -> None:
    import matplotlib.pyplot as plt

    assert set(look.PALETTE.values()) == OKABE_ITO
    with look.plot_style():
        cycle = [c["color"] for c in plt.rcParams["axes.prop_cycle"]]
    assert cycle == list(look.PALETTE.values()) and cycle[0] == "#0072B2"


def test_a_figure_is_an_svg_shown_and_a_png_offered(tmp_path: object) -> None:
    with look.plot_style(), look.new_figure() as (fig, ax):
        ax.plot([1, 2, 3], [0.5, 0.6, 0.65], label="measured")
        figure = look.render_figure(fig, "demo plot", "accuracy & calls")
    with look.plot_style(), look.new_figure() as (fig, ax):
        ax.plot([1, 2, 3], [0.5, 0.6, 0.65], label="measured")
        again = look.render_figure(fig, "demo plot", "accuracy & calls")
    assert figure == again  # no dates or random ids: the same figure gives the same bytes
    node = parse(look.figure_html(figure, caption="A caption."))
    img, caption = node.elements()[0].elements()
    assert img.attrs["alt"] == "accuracy & calls"
    assert base64.b64decode(img.attrs["src"].split(",")[1]).decode() == figure.svg
    link = caption.find_all("a")[0]
    assert link.attrs["download"] == "demo-plot.png" and link.attrs["href"].startswith("data:image/png;base64,")


def test_the_page_shell_is_self_contained_and_prints_its_collapsed_sections(tmp_path: object) -> None:
    body = look.index_html([("a b", "A", "use K = 3"), ("c", "C", "not settled")]) + look.section(
        "a b", "A", look.lead("Use 3 calls."), look.table([["vote over K = 3", "3"]], ["what", "calls"], kind="what-if"),
        look.details("Settings", "What was run.", "<p>θ</p>")) + look.section("c", "C", look.lead("Not settled."))
    page = look.page_html("Demo <report>", body, subtitle="two parts")
    root = check_self_contained(page, tmp_path)  # type: ignore[arg-type]
    assert root.find_all("title")[0].text() == "Demo <report>"
    assert [a.attrs["href"] for a in root.find_all("a")] == ["#a-b", "#c"]
    assert "@media print" in page and "details::details-content" in page and "break-inside:avoid" in page
    assert "beforeprint" in page  # browsers that ignore the CSS open the sections from the script
    assert 'name="viewport"' in page and look.slug("Graded arithmetic / K≤5") == "graded-arithmetic-k-5"
