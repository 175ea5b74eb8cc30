"""Draw the study's pools on the embedded model into a store (resumable; reruns make no new calls).

    python scripts/collect_study_pools.py STORE [--parts arithmetic graded_arithmetic ...] [--export FILE.jsonl.gz]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

from callscale.backends.local import LocalBackend, ServerSettings
from callscale.engine import Engine
from callscale.pools import collect_pools, logprob_distributions
from callscale.store import Store
from callscale.study import FULL

THREADS = int(os.environ.get("CALLSCALE_THREADS", "2"))


async def main(store_path: Path, names: list[str] | None) -> None:
    async with LocalBackend.started(ServerSettings(threads=THREADS)) as backend:
        with Store(store_path) as store:
            engine = Engine(backend, store=store)
            for part in FULL:
                if names and part.name not in names:
                    continue
                task = part.load()
                started = time.perf_counter()
                pools = await collect_pools(engine, task, part.spec)
                if part.logprobs:
                    await logprob_distributions(engine, task, part.spec.model)
                correct = sum(a == p.gold for p in pools for a in p.answers) / sum(len(p.answers) for p in pools)
                print(f"{part.name}: {len(pools)} items × {part.spec.samples} samples, p(correct) {correct:.3f}, "
                      f"{engine.stats.samples} calls made so far, {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("store", type=Path)
    parser.add_argument("--parts", nargs="*")
    args = parser.parse_args()
    asyncio.run(main(args.store, args.parts))
