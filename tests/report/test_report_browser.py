"""The vote-scaling report in a real headless Chromium: it loads without a console error, every image
decodes, and the first task's decision is visible at 1280×800 without scrolling, above its plot.

Needs the ``chromium`` binary (skipped without it); the screenshot is kept under pytest's tmp dir and
its path printed (``pytest -m browser -s`` shows it)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from callscale.report import look
from callscale.report.vote_scaling import write_report
from callscale.scaling.adaptive_pools import adaptive_frontier
from callscale.scaling.analysis import analyze_pools
from callscale.scaling.estimate import PoolItem

pytestmark = pytest.mark.browser

INSTALL = "apt-get install -y chromium"
WIDTH, HEIGHT = 1280, 800

# Collects errors before the page's own script runs: uncaught exceptions, resources that fail to load,
# console.error calls.
CATCH = """<script>window.__errors=[];addEventListener("error",e=>__errors.push(String(e.message||
(e.target&&(e.target.src||e.target.href))||e)),true);const __ce=console.error;console.error=(...a)=>{
__errors.push(a.map(String).join(" "));__ce(...a)};</script>"""
# After load: where the first task's decision and its plot sit in the viewport, and what broke.
PROBE = """<script>addEventListener("load",()=>{const s=document.querySelector("section.part"),
d=s.querySelector("p.decision"),h=s.querySelector("figure.hero"),r=d.getBoundingClientRect(),st=getComputedStyle(d),
imgs=[...document.images];document.body.dataset.probe=JSON.stringify({top:r.top,bottom:r.bottom,left:r.left,
right:r.right,heroTop:h.getBoundingClientRect().top,text:d.innerText,visible:st.visibility==="visible"&&
st.display!=="none"&&r.width>0&&r.height>0,viewport:[innerWidth,innerHeight],images:imgs.length,
broken:imgs.filter(i=>!i.complete||i.naturalWidth===0).length,errors:__errors,
firstBlock:[...s.children].find(c=>c.tagName!=="H2").className})});</script>"""


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium binary; the module is skipped (before anything is rendered) without one."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"needs a headless Chromium; install it with: {INSTALL}")


def _run(binary: str, profile: Path, page: Path, *action: str) -> subprocess.CompletedProcess[str]:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
               "--enable-logging=stderr", "--v=0", *action, page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _console(stderr: str) -> list[str]:
    """The page's console messages Chromium logged (the report writes none)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def _pools(n: int, m: int) -> list[PoolItem]:
    rng = np.random.default_rng(0)
    return [PoolItem(str(i), "R", tuple("R" if rng.random() < (0.85 if i < n / 2 else 0.4) else "W" for _ in range(m)))
            for i in range(n)]


@pytest.fixture(scope="module")
def report(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A two-task report (so the page opens with its index), the second with an adaptive-voting frontier."""
    pools = _pools(40, 8)
    first = analyze_pools("arithmetic", pools, fit_on=4, predict_to=30, n_boot=10).to_dict()
    records = [first, {**first, "name": "arithmetic adaptive", "frontier": adaptive_frontier(pools).to_dict()}]
    return write_report(records, tmp_path_factory.mktemp("browser") / "report"), records


def test_the_report_renders_in_chromium_with_its_decision_in_view(chromium: str, report: tuple[Path, list[dict[str, Any]]],
                                                                  tmp_path: Path) -> None:
    binary = chromium
    page, records = report
    shot = tmp_path / f"report-{WIDTH}x{HEIGHT}.png"
    done = _run(binary, tmp_path / "profile-shot", page, f"--screenshot={shot}")
    print(f"screenshot: {shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (WIDTH, HEIGHT)
    assert _console(done.stderr) == []

    probed = page.with_name("probe.html")  # the same page beside it, with the probe added
    html = page.read_text(encoding="utf-8")
    probed.write_text(html.replace("<head>", "<head>" + CATCH, 1).replace("</body>", PROBE + "</body>", 1),
                      encoding="utf-8")
    done = _run(binary, tmp_path / "profile-dom", probed, "--dump-dom")
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, done.stdout[:500]
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert probe["errors"] == [] and _console(done.stderr) == []
    assert probe["images"] >= 2 * len(records) and probe["broken"] == 0
    # the first task's decision: its first block, visible, whole, in the first screen, above its plot
    sentence = records[0]["decision"]["sentence"]
    assert probe["firstBlock"] == "decision" and probe["visible"] and probe["text"] == sentence
    viewport_height = min(HEIGHT, probe["viewport"][1])
    assert 0 <= probe["top"] < probe["bottom"] <= viewport_height, probe
    assert 0 <= probe["left"] < probe["right"] <= WIDTH and probe["heroTop"] >= probe["bottom"]


def _pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))


def test_printing_opens_the_collapsed_sections(chromium: str, report: tuple[Path, list[dict[str, Any]]],
                                               tmp_path: Path) -> None:
    binary = chromium
    page, _ = report
    closed = page.with_name("closed.html")  # the same page without its print rules: sections print collapsed
    html = page.read_text(encoding="utf-8")
    rule = "details::details-content{content-visibility:visible;display:block;height:auto}"
    assert rule in html and look.SCRIPT in html
    closed.write_text(html.replace(rule, "").replace(look.SCRIPT, ""), encoding="utf-8")
    printed = {}
    for name, source in (("report", page), ("closed", closed)):
        printed[name] = tmp_path / f"{name}.pdf"
        _run(binary, tmp_path / f"profile-{name}", source, "--no-pdf-header-footer", f"--print-to-pdf={printed[name]}")
    print(f"printed: {printed['report']}")
    assert _pages(printed["report"]) > _pages(printed["closed"]) >= 1
