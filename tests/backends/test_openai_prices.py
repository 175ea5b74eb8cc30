"""`--backend openai` prices its model from the price table and sizes it from the built-in catalogue;
a server on this machine is not priced; an unknown price is "—" with one warning line, never 0."""

from __future__ import annotations

import warnings

import pytest

from callscale.backends.factory import BackendSpec
from callscale.catalogue import PriceWarning, lookup_price
from callscale.models import openai_card as _openai_card


def test_a_hosted_model_is_priced_from_the_table() -> None:
    card = _openai_card(BackendSpec(kind="openai", model="gpt-4o-mini", base_url="https://api.openai.com/v1"))
    assert (card.price_in_per_mtok, card.price_out_per_mtok) == lookup_price("gpt-4o-mini", "openai")
    assert card.price_in_per_mtok is not None and card.price_in_per_mtok > 0


def test_a_local_server_is_sized_not_priced() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        card = _openai_card(BackendSpec(kind="openai", model="smollm2-135m-instruct", base_url="http://127.0.0.1:8080/v1"))
    assert card.params == 134_515_008 and card.price_in_per_mtok is None


def test_an_unknown_price_warns_and_stays_unknown() -> None:
    with pytest.warns(PriceWarning, match="dollars are unknown"):
        card = _openai_card(BackendSpec(kind="openai", model="my-private-model", base_url="https://llm.example.com/v1"))
    assert card.price_in_per_mtok is None and card.params == 0


def test_the_cli_prints_a_warning_as_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from callscale.cli import _one_line_warning

    _one_line_warning(PriceWarning("model 'x': no price\\n known"), PriceWarning, "f.py", 3)
    assert capsys.readouterr().err == "warning: model 'x': no price\\n known\n"
