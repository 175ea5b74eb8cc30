"""Scale-out on Ray: achieved calls/s of W Ray workers at concurrency C each against one process at C,
on the simulated backend with latency L (the work is waiting, not computing), and driver memory.

For each W·C the ideal is W·C/L calls/s; printed are the achieved rate as a fraction of it (median
over repeats) and one process's fraction of C/L at the same C, then the per-call cost of the Ray
path against the local one: CPU per call of the driver (its Ray threads included) and of the
workers, against the one process's CPU per call. Last, a long sweep of fresh single-sample pools on
the simulated backend at zero latency through the Ray workers, into a store in a temporary SQLite
file (claims on, as for any store in a file), in asks of ``--sweep-part`` pools; printed is the
driver's peak RSS after 10⁵ and after 10⁶ calls (flat memory: the ratio stays near 1). The sweep
runs first, so the throughput runs' memory is not in its peaks.

    python bench/scale_out.py [--latency 0.1] [--workers 2] [--concurrency 64 256 1024] [--repeats 3]
                              [--sweep 1000000] [--sweep-part 10000]

The machine's other load shows in every figure: read the medians, and one process's fraction
measured in the same minute, as the ceiling of what this machine gave at the time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import resource
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a local cluster on 127.0.0.1

from callscale.backends.simulated import SimulatedBackend
from callscale.engine import Engine
from callscale.executors.ray import connect, ray_backend
from callscale.records import Request
from callscale.store import Store


def opener(latency: float, concurrency: int):  # type: ignore[no-untyped-def]
    """A simulated backend of fixed latency (shipped to each worker by value)."""

    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[SimulatedBackend]:
        yield SimulatedBackend(lambda r: {"4": 0.7, "5": 0.3}, latency_s=latency, max_n=1, concurrency=concurrency)

    return opened()


async def rate(engine: Engine, calls: int, tag: str, workers_cpu: Callable[[], float] = lambda: 0.0,
               ) -> tuple[float, float, float]:
    """(calls/s, driver CPU seconds per call, workers' CPU seconds per call) for ``calls`` fresh
    single-sample pools."""
    asks = [(Request.chat("m", f"{tag} {i}"), 1) for i in range(calls)]
    cpu, wall, others = time.process_time(), time.perf_counter(), workers_cpu()
    await engine.complete_many(asks)
    wall, cpu, others = time.perf_counter() - wall, time.process_time() - cpu, workers_cpu() - others
    return calls / wall, cpu / calls, others / calls


async def cpu_of(actors: list[Any]) -> Callable[[], float]:
    """A reader of the CPU seconds the actors' processes used so far (Linux ``/proc``; else 0)."""
    pids = [where[1] for where in await asyncio.gather(*(a.where.remote() for a in actors))]
    tick = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return 0.0
            total += (int(fields[11]) + int(fields[12])) / tick
        return total

    return used


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def sweep(args: argparse.Namespace) -> None:
    c = max(args.concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        async with ray_backend(functools.partial(opener, 0.0, c), workers=args.workers) as backend:
            store = Store(Path(tmp) / "sweep.sqlite")
            engine = Engine(backend, store=store)
            peaks: dict[int, float] = {}
            done, wall = 0, time.perf_counter()
            while done < args.sweep:
                await rate(engine, args.sweep_part, f"sweep {done}")
                done += args.sweep_part
                for mark in (args.sweep // 10, args.sweep):
                    if done >= mark and mark not in peaks:
                        peaks[mark] = rss_mib()
            wall = time.perf_counter() - wall
            store.close()
    first, last = peaks[args.sweep // 10], peaks[args.sweep]
    print(f"memory: {args.sweep:,} calls at zero latency through {args.workers} Ray workers into a temporary-file "
          f"store ({done / wall:.0f} calls/s); driver peak RSS after {args.sweep // 10:,} calls {first:.0f} MiB, "
          f"after {args.sweep:,} calls {last:.0f} MiB (ratio {last / first:.2f})")


async def main(args: argparse.Namespace) -> None:
    connect(num_cpus=max(2, args.workers))
    if args.sweep:
        await sweep(args)
    print(f"simulated backend, latency {args.latency * 1000:.0f} ms; {args.workers} Ray workers; median of {args.repeats}")
    for c in args.concurrency:
        ideal_ray, ideal_one = args.workers * c / args.latency, c / args.latency
        calls = int(ideal_ray * args.seconds)
        ray_rates, ray_cpu, worker_cpu, one_rates, one_cpu = [], [], [], [], []
        async with ray_backend(functools.partial(opener, args.latency, c), workers=args.workers) as backend:
            engine = Engine(backend)
            workers_cpu = await cpu_of(backend.actors)
            await rate(engine, min(calls, 2000), f"warm {c}")
            for r in range(args.repeats):
                got, cpu, others = await rate(engine, calls, f"ray {c} {r}", workers_cpu)
                ray_rates.append(got / ideal_ray)
                ray_cpu.append(cpu)
                worker_cpu.append(others)
        local = Engine(SimulatedBackend(lambda r: {"4": 0.7, "5": 0.3}, latency_s=args.latency, max_n=1, concurrency=c))
        for r in range(args.repeats):
            got, cpu, _ = await rate(local, int(ideal_one * args.seconds), f"one {c} {r}")
            one_rates.append(got / ideal_one)
            one_cpu.append(cpu)
        ray_at, one_at = statistics.median(ray_rates), statistics.median(one_rates)
        print(f"  W·C={args.workers * c:5d}: Ray {ray_at:.2f} of W·C/L ({ray_at * ideal_ray:.0f} calls/s); one process "
              f"at C={c}: {one_at:.2f} of C/L ({one_at * ideal_one:.0f} calls/s); CPU per call: Ray driver "
              f"{statistics.median(ray_cpu) * 1e6:.0f} µs + workers {statistics.median(worker_cpu) * 1e6:.0f} µs, "
              f"one process {statistics.median(one_cpu) * 1e6:.0f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of ideal work per measurement")
    parser.add_argument("--sweep", type=int, default=1_000_000, help="calls of the memory sweep (0: none)")
    parser.add_argument("--sweep-part", type=int, default=10_000, help="pools asked for at once in the sweep")
    asyncio.run(main(parser.parse_args()))
