"""Scale-out on Ray: achieved calls/s of W Ray workers at concurrency C each against one process at C,
on the simulated backend with latency L (the work is waiting, not computing), and driver memory.

For each W·C the ideal is W·C/L calls/s; printed are the achieved rate as a fraction of it (median
over repeats), one process's fraction at the same C, the per-call overhead of the Ray path against
the local one (extra driver CPU per call), and the driver's peak RSS after N and 10·N calls of a
long sweep (flat memory: the ratio stays near 1).

    python bench/scale_out.py [--latency 0.1] [--workers 2] [--concurrency 64 256 1024] [--repeats 3] [--sweep 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import statistics
import time
from collections.abc import AsyncIterator

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a local cluster on 127.0.0.1

from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.executors.ray import connect, ray_backend
from callscale.records import Request


def opener(latency: float, concurrency: int):  # type: ignore[no-untyped-def]
    """A simulated backend of fixed latency (shipped to each worker by value)."""

    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[SimulatedBackend]:
        yield SimulatedBackend(lambda r: {"4": 0.7, "5": 0.3}, latency_s=latency, max_n=1, concurrency=concurrency)

    return opened()


async def rate(engine: Engine, calls: int, tag: str) -> tuple[float, float]:
    """(calls/s, driver CPU seconds per call) for ``calls`` fresh single-sample pools."""
    asks = [(Request.chat("m", f"{tag} {i}"), 1) for i in range(calls)]
    cpu, wall = time.process_time(), time.perf_counter()
    await engine.complete_many(asks)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return calls / wall, cpu / calls


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(args: argparse.Namespace) -> None:
    connect(num_cpus=max(2, args.workers))
    print(f"simulated backend, latency {args.latency * 1000:.0f} ms; {args.workers} Ray workers; median of {args.repeats}")
    for c in args.concurrency:
        ideal_ray, ideal_one = args.workers * c / args.latency, c / args.latency
        calls = int(ideal_ray * args.seconds)
        ray_rates, ray_cpu, one_rates, one_cpu = [], [], [], []
        async with ray_backend(lambda c=c: opener(args.latency, c), workers=args.workers) as backend:
            engine = Engine(backend)
            await rate(engine, min(calls, 2000), f"warm {c}")
            for r in range(args.repeats):
                got, cpu = await rate(engine, calls, f"ray {c} {r}")
                ray_rates.append(got / ideal_ray)
                ray_cpu.append(cpu)
        local = Engine(SimulatedBackend(lambda r: {"4": 0.7, "5": 0.3}, latency_s=args.latency, max_n=1, concurrency=c))
        for r in range(args.repeats):
            got, cpu = await rate(local, int(ideal_one * args.seconds), f"one {c} {r}")
            one_rates.append(got / ideal_one)
            one_cpu.append(cpu)
        print(f"  W·C={args.workers * c:5d}: Ray {statistics.median(ray_rates):.2f} of W·C/L "
              f"({statistics.median(ray_rates) * ideal_ray:.0f} calls/s); one process at C={c}: "
              f"{statistics.median(one_rates):.2f} of C/L; driver CPU per call Ray {statistics.median(ray_cpu) * 1e6:.0f} µs "
              f"vs local {statistics.median(one_cpu) * 1e6:.0f} µs")
    c = max(args.concurrency)
    async with ray_backend(lambda: opener(0.0, c), workers=args.workers) as backend:
        engine = Engine(backend)
        await rate(engine, args.sweep, "sweep a")
        first = rss_mib()
        for part in range(9):
            await rate(engine, args.sweep, f"sweep {part}")
        print(f"  driver peak RSS after {args.sweep:,} calls {first:.0f} MiB, after {10 * args.sweep:,} calls "
              f"{rss_mib():.0f} MiB (ratio {rss_mib() / first:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of ideal work per measurement")
    parser.add_argument("--sweep", type=int, default=20_000, help="calls per tenth of the memory sweep")
    asyncio.run(main(parser.parse_args()))
