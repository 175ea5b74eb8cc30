"""One look for every report: the page shell, the palette, figures and the building blocks of a page.

Every HTML report is one self-contained file: its CSS and its one small script are inline and its
figures are embedded (SVG as a data URI, with the same figure as PNG offered for download, also as a
data URI), so the file can be mailed, archived or opened offline. The CSS reads on a laptop screen
and on paper (``@media print`` opens the collapsed sections and keeps figures whole). Plots use the
Okabe–Ito palette, which stays distinguishable for colour-blind readers and in greyscale print.

A page leads with what to do (:func:`lead`), then one large figure (:func:`figure_html` with
``hero=True``), then a short table (:func:`table`); everything else goes in collapsed sections
(:func:`details`), each with a plain label and one line saying what it is for.

Example:
    >>> with plot_style(), new_figure() as (fig, ax):
    ...     _ = ax.plot([1, 2, 3], [0.5, 0.6, 0.65], label="measured")
    ...     fig_ = render_figure(fig, "demo", "accuracy against calls")
    >>> part = figure_html(fig_, hero=True)
    >>> part.startswith('<figure class="plot hero"'), 'src="data:image/svg+xml;base64,' in part
    (True, True)
    >>> page = page_html("Demo", section("demo", "Demo", lead("Use 3 calls."), part))
    >>> page.startswith("<!doctype html>"), 'src="http' in page
    (True, False)
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PALETTE",
    "Figure",
    "details",
    "figure_html",
    "index_html",
    "lead",
    "new_figure",
    "page_html",
    "plain_log_ticks",
    "plot_style",
    "render_figure",
    "section",
    "slug",
    "table",
]

PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
"""Okabe & Ito's colour-blind-safe palette; plots cycle through it in this order."""

GREY = "#777777"
HERO_SIZE = (9.0, 4.8)
"""Inches; at :data:`DPI` the hero PNG is about 1000 pixels wide, the width of the page's column."""
SMALL_SIZE = (6.4, 4.0)
DPI = 110

_STYLE: dict[str, Any] = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "font.size": 10,
    "svg.fonttype": "path",
    "svg.hashsalt": "callscale",  # the same figure gives the same SVG
}


def preload() -> None:
    """Import matplotlib (Agg) and its pyplot now: processes forked afterwards to draw figures start with it."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot


@contextlib.contextmanager
def plot_style() -> Iterator[None]:
    """matplotlib (Agg) with the reports' style and palette, for the duration of the block."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from cycler import cycler

    params: Any = matplotlib.rcParams  # its stubs accept only literal keys
    with plt.rc_context():  # restores every setting on exit
        params.update({**_STYLE, "axes.prop_cycle": cycler(color=list(PALETTE.values()))})
        yield


@contextlib.contextmanager
def new_figure(size: tuple[float, float] = SMALL_SIZE, ncols: int = 1) -> Iterator[tuple[Any, Any]]:
    """A fresh figure and its axes (a row of ``ncols`` axes when more than one); closed on exit."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=size)
    try:
        yield fig, axes
    finally:
        plt.close(fig)


@dataclass(frozen=True)
class Figure:
    """A rendered figure: its SVG text, its PNG bytes, a file-like ``name`` and a one-line ``alt`` text."""

    name: str
    alt: str
    svg: str
    png: bytes


def _bytes(fig: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def render_figure(fig: Any, name: str, alt: str) -> Figure:
    """The figure as SVG and PNG (laid out tightly first)."""
    fig.tight_layout()
    svg = _bytes(fig, "svg").decode("utf-8")
    return Figure(name=name, alt=alt, svg=svg, png=_bytes(fig, "png"))


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def plain_log_ticks(axis: Any) -> None:
    """Tick labels of a logarithmic axis as plain numbers (1, 10, 100 rather than powers of ten)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def figure_html(fig: Figure, *, hero: bool = False, wide: bool = False, caption: str = "") -> str:
    """A ``<figure>``: the SVG embedded as a data URI, the caption and a link to download the PNG
    (also embedded). ``hero`` marks the one large figure a section leads with; ``wide`` lets a figure
    of several panels take the full width in a collapsed section."""
    svg = _data_uri("image/svg+xml", fig.svg.encode("utf-8"))
    png = _data_uri("image/png", fig.png)
    kind = "plot hero" if hero else "plot wide" if wide else "plot"
    text = f"{html.escape(caption)} " if caption else ""
    return (f'<figure class="{kind}"><img src="{svg}" alt="{html.escape(fig.alt)}">'
            f'<figcaption>{text}<a class="png" download="{html.escape(slug(fig.name))}.png" href="{png}">'
            "PNG</a></figcaption></figure>")


def slug(text: str) -> str:
    """A name safe in ids and file names.

    >>> slug("graded arithmetic / K≤5")
    'graded-arithmetic-k-5'
    """
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-") or "part"


def lead(sentence: str) -> str:
    """The decision a section opens with, in plain words."""
    return f'<p class="decision">{html.escape(sentence)}</p>'


def table(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None, *, kind: str = "",
          numeric: bool = True) -> str:
    """An HTML table of already formatted cells (escaped here); with ``numeric`` every column after the
    first is right-aligned."""
    head = "" if header is None else "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead>"
    cells = []
    for row in rows:
        first, *rest = row
        align = ' class="num"' if numeric else ""
        cells.append(f"<tr><th>{html.escape(first)}</th>" + "".join(f"<td{align}>{html.escape(c)}</td>" for c in rest)
                     + "</tr>")
    cls = f' class="{kind}"' if kind else ""
    return f"<table{cls}>{head}<tbody>{''.join(cells)}</tbody></table>"


def details(label: str, why: str, body: str) -> str:
    """A collapsed section: a plain ``label``, one line saying ``why`` it is there, then ``body`` (HTML)."""
    return (f"<details><summary>{html.escape(label)}</summary><p class=\"why\">{html.escape(why)}</p>"
            f"{body}</details>")


def section(ident: str, title: str, *parts: str) -> str:
    """One part (task, analysis, search) of a page: its heading, then ``parts`` (HTML) in order."""
    return f'<section class="part" id="{html.escape(slug(ident))}"><h2>{html.escape(title)}</h2>{"".join(parts)}</section>'


def index_html(entries: Sequence[tuple[str, str, str]]) -> str:
    """The page's index when it has several parts: per part its id, title and a short verdict."""
    rows = "".join(f'<li><a href="#{html.escape(slug(ident))}">{html.escape(title)}</a>'
                   f'<span class="verdict">{html.escape(verdict)}</span></li>' for ident, title, verdict in entries)
    return f'<nav class="index" aria-label="parts"><ol>{rows}</ol></nav>'


CSS = """
:root{--ink:#1d1d1f;--muted:#5a5a60;--rule:#d9d9de;--accent:#0072B2;--bg:#fff;--soft:#f5f6f8}
*{box-sizing:border-box}
html{font-size:16px}
body{margin:0;background:var(--bg);color:var(--ink);
 font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:62rem;margin:0 auto;padding:1.25rem 1.5rem 3rem}
header h1{font-size:1.45rem;margin:0 0 .15rem}
header p{margin:0;color:var(--muted);font-size:.9rem}
h2{font-size:1.2rem;margin:0 0 .4rem;color:var(--muted);font-weight:600}
section.part{padding-top:1.1rem;margin-top:1.1rem;border-top:1px solid var(--rule)}
p.decision{font-size:1.2rem;line-height:1.45;margin:.2rem 0 .8rem;padding:.55rem .9rem;
 border-left:.3rem solid var(--accent);background:var(--soft);font-weight:500}
figure{margin:0 0 1rem}
figure img{display:block;width:100%;height:auto}
figure.hero img{max-height:32rem;object-fit:contain}
figcaption{font-size:.82rem;color:var(--muted)}
figcaption a{color:var(--accent)}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.92rem}
th,td{padding:.28rem .7rem;border-bottom:1px solid var(--rule);text-align:left;vertical-align:top}
thead th{border-bottom:2px solid var(--ink);font-weight:600}
tbody th{font-weight:normal}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.what-if{min-width:60%}
table.facts td{white-space:normal;text-align:left}
details{border:1px solid var(--rule);border-radius:.35rem;margin:.45rem 0;padding:.35rem .8rem}
details[open]{padding-bottom:.6rem}
summary{cursor:pointer;font-weight:600}
p.why{margin:.25rem 0 .5rem;color:var(--muted);font-size:.9rem}
details figure{max-width:44rem}
details figure.wide{max-width:none}
nav.index ol{margin:.6rem 0 0;padding-left:1.3rem}
nav.index li{margin:.1rem 0}
nav.index .verdict{color:var(--muted);margin-left:.6rem;font-size:.92rem}
a{color:var(--accent)}
footer{margin-top:2rem;color:var(--muted);font-size:.8rem}
@media (max-width:40rem){main{padding:1rem}p.decision{font-size:1.05rem}}
@media print{
 @page{margin:1.4cm}
 html{font-size:11pt}
 main{max-width:none;padding:0}
 details{border:none;padding:0}
 details::details-content{content-visibility:visible;display:block;height:auto}
 details>*{display:block}
 summary{list-style:none}
 summary::-webkit-details-marker{display:none}
 figure,table,p.decision{break-inside:avoid}
 figcaption a.png{display:none}
 section.part{break-before:auto}
}
"""

# Browsers print the content of a closed <details> only when it is open: open them all for printing.
SCRIPT = """
addEventListener("beforeprint",()=>{for(const d of document.querySelectorAll("details")){d.dataset.closed=!d.open;d.open=true}});
addEventListener("afterprint",()=>{for(const d of document.querySelectorAll("details[data-closed=true]")){d.open=false}});
"""


def page_html(title: str, body: str, *, subtitle: str = "", footer: str = "") -> str:
    """The whole page: title, optional subtitle and footer lines, the body (HTML) — one self-contained file."""
    sub = f"<p>{html.escape(subtitle)}</p>" if subtitle else ""
    foot = f"<footer>{html.escape(footer)}</footer>" if footer else ""
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style><script>{SCRIPT}</script></head>"
        f"<body><main><header><h1>{html.escape(title)}</h1>{sub}</header>{body}{foot}</main></body></html>\n"
    )
