from __future__ import annotations

import pytest

from callscale.ledger import Ledger
from callscale.records import Completion, ModelCard, Usage

CARD = ModelCard("m", params=1000, price_in_per_mtok=1.0, price_out_per_mtok=4.0)


def test_spent_versus_system() -> None:
    ledger = Ledger()
    ledger.record("gen", CARD, Completion("A", 0, Usage(10, 5)), depth=1)
    ledger.record("gen", CARD, Completion("A", 1, Usage(10, 5), cached=True), depth=1)
    ledger.record("judge", CARD, Completion("", 0, error="x"), depth=2)
    total = ledger.total()
    assert total.system.calls == 2 and total.spent.calls == 1
    assert total.cache_hits == 1 and total.spent.failed == 1
    assert total.system.primitive_cost == 2 * 1000 * 15
    assert total.system.forward_passes == 12
    assert total.system.flops == pytest.approx(2 * 2 * 1000 * 15)
    assert total.system.dollars == pytest.approx(2 * (10 * 1 + 5 * 4) / 1e6)
    assert ledger.depth == 2
    assert set(ledger.nodes()) == {"gen", "judge"}


def test_unpriced_models_report_no_dollars() -> None:
    ledger = Ledger()
    ledger.record("n", ModelCard("free", 10), Completion("A", 0, Usage(1, 1)))
    assert ledger.as_dict()["total"]["system"]["dollars"] is None


def test_merge_adds_lines() -> None:
    a, b = Ledger(), Ledger()
    a.record("n", CARD, Completion("A", 0, Usage(1, 1)))
    b.record("n", CARD, Completion("A", 0, Usage(1, 1)), depth=3)
    a.merge(b)
    assert a.total().system.calls == 2 and a.depth == 3
