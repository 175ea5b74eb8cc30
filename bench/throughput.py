"""Achieved calls/s against a loopback OpenAI-compatible server with fixed latency L, at concurrency C.

The server runs in its own process (no shared GIL); the engine talks to it over HTTP on 127.0.0.1.
Ideal throughput is C/L. Two fractions of it are printed, medians over repeats:

* *whole run*: ``rounds × C`` calls on a fresh engine, timed from the first call to the last, so it
  includes opening C connections and the ramp-up and tail of the first and last rounds;
* *sustained*: the rate of the calls a longer run adds, ``(N_long − N_short) / (T_long − T_short)``
  with ``N_long = 3 × N_short``, which cancels the fixed start and end costs. This is what a long
  study sees.

    python bench/throughput.py [--latency 0.1] [--concurrency 32 256] [--repeats 3] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from callscale.backends.openai_compat import OpenAICompatBackend
from callscale.engine import Engine
from callscale.records import Request
from callscale.testing.loopback import LoopbackProcess


async def timed_run(base_url: str, concurrency: int, calls: int, tag: str) -> float:
    """Seconds for ``calls`` calls on a fresh engine (new connections)."""
    backend = OpenAICompatBackend(base_url, api_key_env=None, concurrency=concurrency, timeout_s=30)
    engine = Engine(backend)
    requests = [Request.chat("loopback", f"{tag} {i}", max_tokens=4) for i in range(calls)]
    started = time.perf_counter()
    await engine.complete_many([(r, 1) for r in requests])
    elapsed = time.perf_counter() - started
    await engine.aclose()
    assert engine.stats.samples == calls and engine.stats.failures == 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=10, help="calls per short run = rounds × concurrency")
    args = parser.parse_args()
    with LoopbackProcess(latency_s=args.latency) as server:
        print(f"loopback server, latency {args.latency * 1000:.0f} ms; median of {args.repeats} repeats")
        for c in args.concurrency:
            ideal = c / args.latency
            short_n, long_n = args.rounds * c, 3 * args.rounds * c
            whole, sustained = [], []
            for r in range(args.repeats):
                t_short = asyncio.run(timed_run(server.base_url, c, short_n, f"c{c}r{r}s"))
                t_long = asyncio.run(timed_run(server.base_url, c, long_n, f"c{c}r{r}l"))
                whole.append(short_n / t_short / ideal)
                sustained.append((long_n - short_n) / (t_long - t_short) / ideal)
            print(f"  C={c:4d}: ideal {ideal:6.0f} calls/s   whole run {statistics.median(whole):.2f}"
                  f"   sustained {statistics.median(sustained):.2f}")


if __name__ == "__main__":
    main()
