"""Draw the study's pools on the embedded model into a store (resumable; reruns make no new calls).

With ``--export DIR`` it also writes ``DIR/replay.jsonl.gz`` (every recorded completion, for the
replay backend: the study's report regenerates offline from it) and ``DIR/pools/<part>.jsonl``
(parsed answers per item, the input of ``bench/scaling_prediction.py --pool``).

    python scripts/collect_study_pools.py STORE [--parts arithmetic graded_arithmetic ...] [--export DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from callscale.backends.local import LocalBackend, ServerSettings
from callscale.engine import Engine
from callscale.pools import collect_pools, logprob_distributions
from callscale.store import Store
from callscale.study import FULL

THREADS = int(os.environ.get("CALLSCALE_THREADS", "2"))


async def main(store_path: Path, names: list[str] | None, export: Path | None) -> None:
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
                if export is not None:
                    (export / "pools").mkdir(parents=True, exist_ok=True)
                    with (export / "pools" / f"{part.name}.jsonl").open("w", encoding="utf-8") as out:
                        for p in pools:
                            out.write(json.dumps({"id": p.id, "gold": p.gold, "answers": list(p.answers)}) + "\n")
            if export is not None:
                store.flush()
                print(f"exported {store.export_jsonl(export / 'replay.jsonl.gz')} completions to {export}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("store", type=Path)
    parser.add_argument("--parts", nargs="*")
    parser.add_argument("--export", type=Path)
    args = parser.parse_args()
    asyncio.run(main(args.store, args.parts, args.export))
