"""Achieved calls/s against a loopback OpenAI-compatible server with fixed latency L, at concurrency C.

The server runs in its own process (no shared GIL); the engine talks to it over HTTP on 127.0.0.1.
Ideal throughput is C/L; the printed fraction is the median over repeats of achieved/ideal.

    python bench/throughput.py [--latency 0.1] [--concurrency 32 256] [--repeats 3]
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


async def measure(base_url: str, concurrency: int, calls: int, tag: str) -> float:
    backend = OpenAICompatBackend(base_url, api_key_env=None, concurrency=concurrency, timeout_s=30)
    engine = Engine(backend)
    requests = [Request.chat("loopback", f"{tag} {i}", max_tokens=4) for i in range(calls)]
    started = time.perf_counter()
    await engine.complete_many([(r, 1) for r in requests])
    elapsed = time.perf_counter() - started
    await engine.aclose()
    assert engine.stats.samples == calls and engine.stats.failures == 0
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=10, help="calls per run = rounds × concurrency")
    args = parser.parse_args()
    with LoopbackProcess(latency_s=args.latency) as server:
        print(f"loopback server, latency {args.latency * 1000:.0f} ms; median of {args.repeats} runs")
        for c in args.concurrency:
            rates = [asyncio.run(measure(server.base_url, c, args.rounds * c, f"c{c}r{r}")) for r in range(args.repeats)]
            ideal = c / args.latency
            rate = statistics.median(rates)
            print(f"  C={c:4d}: {rate:8.0f} calls/s of ideal {ideal:6.0f}  fraction {rate / ideal:.2f}")


if __name__ == "__main__":
    main()
