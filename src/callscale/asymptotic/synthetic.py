"""The word-count world the asymptotic examples and network files are measured in on the simulated backend.

Prompts are synthetic word strings (``"w w w …"``), and a :class:`~callscale.backends.simulated.SimulatedBackend`
counts tokens as whitespace-separated words, both in the prompt and in the completion. So a
completion of ``max_tokens`` words (:func:`echo_length`) has exactly the length a declaration
states, and declared token counts equal the ledger's. This module only configures the shared
simulated backend (a responder, model sizes and word tokenisation); it is not a backend of its own.

Example:
    >>> b = synthetic_backend(echo_length, {"m": 10})
    >>> b.card("m").params, b.name
    (10, 'simulated-words')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscale.backends.simulated import Responder, SimulatedBackend
from callscale.records import Request


def words(n: int, word: str = "w") -> str:
    """``n`` copies of ``word`` separated by spaces (a synthetic text of n tokens).

    Example:
        >>> words(3)
        'w w w'
    """
    return " ".join([word] * n)


def word_count(text: str) -> int:
    """Whitespace-separated words: the simulated backend's token count.

    Example:
        >>> word_count("a b\\nc")
        3
    """
    return len(text.split())


def echo_length(request: Request) -> dict[str, float]:
    """Responder writing exactly ``max_tokens`` words: a completion of the declared length.

    Example:
        >>> echo_length(Request.chat("m", "hi", max_tokens=3))
        {'w w w': 1.0}
    """
    return {words(request.sampling.max_tokens): 1.0}


def synthetic_backend(responder: Responder, params: Mapping[str, Any] | None = None) -> SimulatedBackend:
    """A simulated backend whose prompt and completion tokens are word counts (so declarations are exact).

    ``params`` maps model names to sizes (an example's model sizes; made integers here); without it
    every model has the simulated backend's default size.

    Example:
        >>> synthetic_backend(echo_length).card("any").params == SimulatedBackend(echo_length).card("any").params
        True
    """
    sizes: dict[str, Any] = {} if params is None else {"params": {k: int(v) for k, v in params.items()}}
    return SimulatedBackend(responder, name="simulated-words", prompt_tokens=lambda r: word_count(r.text),
                            completion_tokens=word_count, **sizes)


__all__ = ["echo_length", "synthetic_backend", "word_count", "words"]
