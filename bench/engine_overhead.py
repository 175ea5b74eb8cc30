"""Engine overhead per call on the simulated backend at zero latency, against a bare asyncio loop.

Prints calls/s for: a bare loop awaiting the backend directly; the engine on fresh pools (every
call made, stored in SQLite, costed in the ledger); the engine on cache hits. Each is the median of
several repeats in this same run, with the ratio engine/bare. Because a shared machine's speed
drifts within seconds, the ratios are also measured on short interleaved chunks (bare, engine,
bare, engine, ...) and the median of the paired ratios printed. Then peak RSS after 10k and 100k
simulated calls, to show memory stays flat.

    python bench/engine_overhead.py [--calls 20000] [--repeats 5] [--chunks 30]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path

from callscale.backends.base import Batch
from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.records import Request
from callscale.store import Store


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def requests(n: int, tag: str) -> list[Request]:
    return [Request.chat("sim", f"{tag} question {i}", max_tokens=8) for i in range(n)]


def bare(backend: SimulatedBackend, n: int, tag: str) -> float:
    reqs = requests(n, tag)

    async def loop() -> None:
        for r in reqs:
            await backend.generate(Batch(r, 0, 1))

    started = time.perf_counter()
    asyncio.run(loop())
    return n / (time.perf_counter() - started)


def engine_rate(engine: Engine, reqs: list[Request]) -> float:
    started = time.perf_counter()
    asyncio.run(engine.complete_many([(r, 1) for r in reqs]))
    engine.store.flush()
    return len(reqs) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chunks", type=int, default=30)
    args = parser.parse_args()
    backend = SimulatedBackend.constant({"A": 0.5, "B": 0.3, "C": 0.2})
    with tempfile.TemporaryDirectory() as tmp:
        bare_rates, fresh_rates, hit_rates = [], [], []
        for rep in range(args.repeats):
            bare_rates.append(bare(backend, args.calls, f"bare{rep}"))
            engine = Engine(backend, store=Store(Path(tmp) / f"s{rep}.sqlite"))
            reqs = requests(args.calls, f"eng{rep}")
            fresh_rates.append(engine_rate(engine, reqs))
            hit_rates.append(engine_rate(engine, requests(args.calls, f"eng{rep}")))
            engine.store.close()
        b, f, h = (statistics.median(x) for x in (bare_rates, fresh_rates, hit_rates))
        print(f"medians over {args.repeats} repeats of {args.calls} calls (one core, simulated backend, zero latency)")
        print(f"  bare asyncio loop over the backend   {b:10.0f} calls/s")
        print(f"  engine, every call made and stored   {f:10.0f} calls/s   ratio engine/bare {f / b:.2f}")
        print(f"  engine, cache hits                   {h:10.0f} calls/s   ratio hits/bare   {h / b:.2f}")

        paired = []
        engine = Engine(backend, store=Store(Path(tmp) / "paired.sqlite"))
        for chunk in range(args.chunks):
            b_rate = bare(backend, 2000, f"pb{chunk}")
            paired.append(engine_rate(engine, requests(2000, f"pe{chunk}")) / b_rate)
        engine.store.close()
        print(f"  paired chunks of 2,000 calls: median engine/bare {statistics.median(paired):.2f} "
              f"(quartiles {statistics.quantiles(paired, n=4)[0]:.2f}–{statistics.quantiles(paired, n=4)[2]:.2f})")

        engine = Engine(backend, store=Store(Path(tmp) / "memory.sqlite"))
        rss: dict[int, float] = {}
        done = 0
        for checkpoint in (10_000, 100_000):
            while done < checkpoint:
                batch = requests(min(10_000, checkpoint - done), f"mem{done}")
                asyncio.run(engine.complete_many([(r, 1) for r in batch]))
                done += len(batch)
            engine.store.flush()
            rss[checkpoint] = peak_rss_mib()
        print(f"  peak RSS after 10k calls {rss[10_000]:.0f} MiB, after 100k calls {rss[100_000]:.0f} MiB "
              f"(ratio {rss[100_000] / rss[10_000]:.2f}); ledger lines: {len(engine.ledger.lines())}")


if __name__ == "__main__":
    main()
