"""The search report (callscale.report.search): the regret plot."""

from __future__ import annotations

from pathlib import Path

from callscale.report.search import plot_regret


def test_writes_a_png(tmp_path: Path) -> None:
    path = plot_regret(
        {"random": [[0.2, 0.1, 0.1, 0.05], [0.3, 0.0]], "model_based": [[0.0], [0.01, 0.0]], "empty": []},
        tmp_path / "sub" / "regret.png",
    )
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    linear = plot_regret({"x": [[1.0, 0.5]]}, tmp_path / "lin.png", log=False)
    assert Path(linear).exists()
