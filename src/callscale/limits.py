"""Rate limits: requests and tokens per minute, enforced per endpoint before each call.

A :class:`RateLimiter` paces calls to one server. Each ``await limiter.acquire(tokens=n)`` waits
(first come, first served; sleeping, never spinning; on the monotonic clock) until the call may go:

* **requests per minute** ``rpm``: calls leave evenly spaced, ``60/rpm`` seconds apart, with a burst
  of ``burst`` calls (default 1: no burst) allowed to go at once after a quiet spell;
* **tokens per minute** ``tpm``: a call of ``n`` tokens uses the next ``60·n/tpm`` seconds of the
  token budget; the next call goes once the tokens before it are earned (plus ``token_burst``
  tokens of slack, default 0);
* and, whatever the burst, **never more than ``rpm`` calls nor ``tpm`` tokens in any 60-second
  window** (a sliding window of what was let through). A single call of more than ``tpm`` tokens
  waits for an empty window and then goes alone (a server would refuse it anyway).

In the long run a limiter lets through ``rpm`` calls (or ``tpm`` tokens) a minute, no more. Tokens
are whatever the caller counts (prompt + ``max_tokens`` is the safe estimate);
:meth:`RateLimiter.adjust` corrects the count once the real usage is known.

:class:`RateLimiters` keeps one limiter per endpoint, so models served by the same server share it
(see :meth:`callscale.catalogue.Catalogue.limiters`).

Example:
    >>> import asyncio
    >>> limiter = RateLimiter(rpm=600)  # one call every 0.1 s
    >>> async def three() -> float:
    ...     return sum([await limiter.acquire() for _ in range(3)])
    >>> 0.15 < asyncio.run(three()) < 1.0  # the first goes at once, the next two wait ~0.1 s each
    True
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping

WINDOW_S = 60.0
"""The window the limits are counted over: one minute."""
_EPS = 1e-9  # seconds: waits shorter than this are float noise, not waits


class _Window:
    """What went through in the last :data:`WINDOW_S` seconds: (time, amount) entries and their sum."""

    def __init__(self) -> None:
        self.entries: deque[tuple[float, float]] = deque()
        self.total = 0.0

    def expire(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - WINDOW_S + _EPS:
            self.total -= self.entries.popleft()[1]
        if not self.entries:
            self.total = 0.0  # no drift from float sums

    def add(self, now: float, amount: float) -> None:
        if amount:
            self.entries.append((now, amount))
            self.total += amount

    def delay(self, now: float, amount: float, limit: float) -> float:
        """Seconds until ``amount`` more fits under ``limit`` (an oversized amount: until the window is empty)."""
        excess = self.total + amount - limit if amount <= limit else self.total
        if excess <= 1e-9:
            return 0.0
        for t, a in self.entries:
            excess -= a
            if excess <= 1e-9:
                return max(0.0, t + WINDOW_S - now)
        return max(0.0, self.entries[-1][0] + WINDOW_S - now) if self.entries else 0.0


class RateLimiter:
    """Requests/minute and tokens/minute for one endpoint (see the module docstring); ``None`` = no limit.

    ``burst``: calls that may go at once (default 1: evenly spaced). ``token_burst``: tokens of slack
    on the token pace (default 0). ``clock``/``sleep`` are for tests (a fake clock).

    Example:
        >>> RateLimiter(rpm=1200, tpm=90_000)
        RateLimiter(rpm=1200, tpm=90000, burst=1)
        >>> RateLimiter().limited
        False
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None, *, burst: int = 1, token_burst: int = 0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number or None, got {value!r}")
        if not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be a whole number ≥ 1, got {burst!r}")
        if not isinstance(token_burst, int) or token_burst < 0:
            raise ValueError(f"token_burst must be a whole number ≥ 0, got {token_burst!r}")
        self.rpm, self.tpm, self.burst, self.token_burst = rpm, tpm, burst, token_burst
        self._clock, self._sleep = clock, sleep
        self._next_request = -math.inf  # pacing: when the next call is due (GCRA theoretical arrival time)
        self._next_token = -math.inf
        self._requests, self._tokens = _Window(), _Window()
        self._busy = False  # someone holds the turn (is sleeping until it may go)
        self._queue: deque[asyncio.Future[None]] = deque()

    def __repr__(self) -> str:
        return f"RateLimiter(rpm={self.rpm}, tpm={self.tpm}, burst={self.burst})"

    @property
    def limited(self) -> bool:
        """Whether any limit is set (an unlimited limiter never waits)."""
        return self.rpm is not None or self.tpm is not None

    @property
    def waiting(self) -> int:
        """Calls waiting for their turn (besides the one about to go)."""
        return sum(1 for f in self._queue if not f.done())

    def delay(self, tokens: int = 0) -> float:
        """Seconds a call of ``tokens`` would wait now if nobody were ahead of it (nothing is taken)."""
        tokens = _check_tokens(tokens)
        return self._delay(tokens, self._clock()) if self.limited else 0.0

    def _delay(self, tokens: int, now: float) -> float:
        wait = 0.0
        if self.rpm is not None:
            self._requests.expire(now)
            slack = (self.burst - 1) * WINDOW_S / self.rpm
            wait = max(wait, self._next_request - slack - now, self._requests.delay(now, 1, self.rpm))
        if self.tpm is not None and tokens > 0:
            self._tokens.expire(now)
            slack = self.token_burst * WINDOW_S / self.tpm
            wait = max(wait, self._next_token - slack - now, self._tokens.delay(now, tokens, self.tpm))
        return wait if wait > _EPS else 0.0

    def _admit(self, tokens: int, now: float) -> None:
        if self.rpm is not None:
            self._next_request = max(self._next_request, now) + WINDOW_S / self.rpm
            self._requests.add(now, 1)
        if self.tpm is not None and tokens > 0:
            self._next_token = max(self._next_token, now) + tokens * WINDOW_S / self.tpm
            self._tokens.add(now, tokens)

    async def acquire(self, tokens: int = 0) -> float:
        """Wait until a call of ``tokens`` tokens may go, take its share, and return the seconds waited.

        Calls go in the order they asked (FIFO). Cancelling a waiting call takes nothing.
        """
        tokens = _check_tokens(tokens)
        if not self.limited:
            return 0.0
        start = self._clock()
        if not self._busy and not self._queue and self._delay(tokens, start) <= 0:
            self._admit(tokens, start)  # fast path: free to go, no suspension
            return 0.0
        if self._busy or self._queue:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._queue.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._pass_turn()  # handed the turn just as we were cancelled: hand it on
                else:
                    with contextlib.suppress(ValueError):
                        self._queue.remove(turn)
                raise
        else:
            self._busy = True
        try:
            while (wait := self._delay(tokens, self._clock())) > 0:
                await self._sleep(wait)
            now = self._clock()
            self._admit(tokens, now)
        finally:
            self._pass_turn()
        return now - start

    def _pass_turn(self) -> None:
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)  # _busy stays True: the turn is handed over
                return
        self._busy = False

    def adjust(self, tokens: int) -> None:
        """Count ``tokens`` more (or fewer, if negative) against the token limit, now: e.g. the real
        usage of a call minus the estimate it acquired with. Never waits.

        Example:
            >>> limiter = RateLimiter(tpm=600)
            >>> limiter.adjust(300)  # half a minute's tokens used
            >>> 25 < limiter.delay(tokens=10) <= 30
            True
        """
        if self.tpm is None or not tokens:
            return
        now = self._clock()
        self._tokens.expire(now)
        self._next_token = max(self._next_token, now - self.token_burst * WINDOW_S / self.tpm) + tokens * WINDOW_S / self.tpm
        self._tokens.add(now, tokens)


def _check_tokens(tokens: int) -> int:
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        raise ValueError(f"tokens must be a whole number ≥ 0, got {tokens!r}")
    return tokens


class RateLimiters(Mapping[str, RateLimiter]):
    """One :class:`RateLimiter` per endpoint; an endpoint without limits gets an unlimited one.

    Example:
        >>> limiters = RateLimiters({"openai+http://h:80/v1": (60, None)})
        >>> limiters.for_endpoint("openai+http://h:80/v1").rpm, limiters.for_endpoint("local:smol").limited
        (60, False)
        >>> limiters.for_endpoint("openai+http://h:80/v1") is limiters["openai+http://h:80/v1"]
        True
    """

    def __init__(self, limits: Mapping[str, tuple[float | None, float | None]] | None = None, *, burst: int = 1) -> None:
        self._limiters = {endpoint: RateLimiter(rpm, tpm, burst=burst) for endpoint, (rpm, tpm) in (limits or {}).items()}

    def for_endpoint(self, endpoint: str) -> RateLimiter:
        """The limiter of ``endpoint`` (the same object every time)."""
        limiter = self._limiters.get(endpoint)
        if limiter is None:
            limiter = self._limiters[endpoint] = RateLimiter()
        return limiter

    def __getitem__(self, endpoint: str) -> RateLimiter:
        return self._limiters[endpoint]

    def __iter__(self) -> Iterator[str]:
        return iter(self._limiters)

    def __len__(self) -> int:
        return len(self._limiters)
