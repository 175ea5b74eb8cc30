"""Keep API keys out of everything callscale writes: the store, logs, reports and error lines.

Backends read keys from the environment and send them only in headers. A server's error text can
still echo a key back (a 401 body quoting the ``Authorization`` header), so every error message is
passed through :func:`redact` before it is stored or printed: the configured keys are replaced, and
so is anything shaped like a key (``sk-…``, ``Bearer …``, ``api_key=…``).

Example:
    >>> redact("bad header: Authorization: Bearer sk-abc123def456ghi789")
    'bad header: Authorization: Bearer [redacted]'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_KEY_SHAPES = re.compile(
    r"(?i)(?P<lead>\bbearer\s+|\b(?:api[_-]?key|x-api-key|access[_-]?token|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]+"
    r"|\b(?:sk|pk|rk|gsk|xai|hf)[-_][A-Za-z0-9_\-]{8,}"
    r"|\bAIza[0-9A-Za-z_\-]{20,}"
)
_MASK = "[redacted]"
_known: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a configured key so :func:`redact` removes it wherever it appears (keys of 6+ characters)."""
    if value and len(value) >= 6:
        _known.add(value)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every registered or given key, and anything shaped like a key, replaced.

    Example:
        >>> redact("echo: my-own-key-42 and api_key=abcdef", ["my-own-key-42"])
        'echo: [redacted] and api_key=[redacted]'
    """
    for secret in sorted({*_known, *(s for s in secrets if s and len(s) >= 6)}, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return _KEY_SHAPES.sub(lambda m: (m.group("lead") or "") + _MASK, text)
