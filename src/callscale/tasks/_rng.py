"""A tiny deterministic random stream built on SHA-256.

Python's :mod:`random` is stable in practice but not promised across versions; item selection,
option permutations and generated items must be identical everywhere, so they draw from this.

Example:
    >>> HashStream("demo", 1).below(10) == HashStream("demo", 1).below(10)
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class HashStream:
    """Deterministic integers from SHA-256 in counter mode, keyed by any printable values.

    Example:
        >>> a, b = HashStream("k", 3), HashStream("k", 3)
        >>> [a.below(100) for _ in range(4)] == [b.below(100) for _ in range(4)]
        True
    """

    def __init__(self, *key: object) -> None:
        self._key = "\x1f".join(str(k) for k in key).encode()
        self._counter = 0
        self._buffer = b""

    def _take(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.sha256(self._key + b"\x00" + self._counter.to_bytes(8, "big")).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def below(self, n: int) -> int:
        """A uniform integer in ``[0, n)`` (rejection sampling, no modulo bias).

        Example:
            >>> 0 <= HashStream("x").below(7) < 7
            True
        """
        if n <= 0:
            raise ValueError("below() needs n >= 1")
        limit = (2**64 // n) * n
        while True:
            x = int.from_bytes(self._take(8), "big")
            if x < limit:
                return x % n

    def between(self, low: int, high: int) -> int:
        """A uniform integer in ``[low, high]`` (both ends included).

        Example:
            >>> 10 <= HashStream("x").between(10, 99) <= 99
            True
        """
        return low + self.below(high - low + 1)

    def choice(self, seq: Sequence[T]) -> T:
        """A uniformly chosen element of ``seq``.

        Example:
            >>> HashStream("x").choice(["+"])
            '+'
        """
        return seq[self.below(len(seq))]

    def shuffled(self, seq: Sequence[T]) -> list[T]:
        """A Fisher–Yates shuffle of ``seq`` (the input is not modified).

        Example:
            >>> sorted(HashStream("x").shuffled([3, 1, 2]))
            [1, 2, 3]
        """
        out = list(seq)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out


def hash_rank(seed: object, key: str) -> str:
    """A sort key that orders ``key`` pseudo-randomly but reproducibly for ``seed``.

    Example:
        >>> sorted(["a", "b", "c"], key=lambda k: hash_rank(0, k)) == sorted(
        ...     ["c", "b", "a"], key=lambda k: hash_rank(0, k))
        True
    """
    return hashlib.sha256(f"{seed}\x1f{key}".encode()).hexdigest()
