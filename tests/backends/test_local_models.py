"""The local runtime serves more than one model: SmolLM2 (chat) and the opt-in Gemma 3 270M (a base
model, sent plain completion prompts). Chat requests to a model without a chat template become
completion prompts; pools stay keyed by the chat request."""

from __future__ import annotations

import asyncio

import pytest

from callscale.backends.base import Batch, ConfigurationError
from callscale.backends.local import (
    DEFAULT_MODEL,
    GEMMA_INSTALL,
    GEMMA_MODEL,
    LocalBackend,
    ServerSettings,
    gemma_weights,
    local_model,
    local_models,
)
from callscale.backends.openai_compat import OpenAICompatBackend
from callscale.records import ModelCard, Request


def test_the_local_models_and_their_cards() -> None:
    models = local_models()
    assert models[DEFAULT_MODEL].default and models[DEFAULT_MODEL].card.chat
    assert not models[GEMMA_MODEL].card.chat and models[GEMMA_MODEL].card.params > models[DEFAULT_MODEL].card.params
    with pytest.raises(ConfigurationError, match="unknown local model 'gpt-9'; the local models are"):
        local_model("gpt-9")


def test_a_chat_request_to_a_base_model_is_a_completion_prompt() -> None:
    backend = OpenAICompatBackend("http://127.0.0.1:9/v1", api_key_env=None,
                                  cards={"base": ModelCard("base", params=1, chat=False)})
    body = backend.body(Batch(Request.chat("base", "What is 2+3?"), 0, 1))
    assert "messages" not in body and body["prompt"] == "What is 2+3?\nAnswer:" and body["stop"] == ["\n\n"]
    chat = backend.body(Batch(Request.chat("other", "What is 2+3?"), 0, 1))
    assert chat["messages"] == [{"role": "user", "content": "What is 2+3?"}] and "prompt" not in chat


def _gemma_installed() -> bool:
    try:
        gemma_weights(assemble=False)
    except ConfigurationError:
        return False
    return True


@pytest.mark.real_model
@pytest.mark.skipif(not _gemma_installed(), reason=f"Gemma 3 270M is not installed; run: {GEMMA_INSTALL}")
def test_two_local_models_answer_side_by_side() -> None:
    async def both() -> tuple[list[str], list[str]]:
        async with LocalBackend.started(ServerSettings.for_model(DEFAULT_MODEL, threads=1, slots=1)) as smol, \
                LocalBackend.started(ServerSettings.for_model(GEMMA_MODEL, threads=1, slots=1)) as gemma:
            a = await smol.generate(Batch(Request.chat(DEFAULT_MODEL, "What is 2+3?", max_tokens=8), 0, 1))
            b = await gemma.generate(Batch(Request.chat(GEMMA_MODEL, "What is 2+3?", max_tokens=8), 0, 1))
            assert gemma.card(GEMMA_MODEL).params == 268_098_176
            return [c.text for c in a], [c.text for c in b]

    smol_text, gemma_text = asyncio.run(both())
    assert len(smol_text) == len(gemma_text) == 1
