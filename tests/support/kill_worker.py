"""A run that a test kills with SIGKILL and starts again: N arithmetic questions, one sample each."""

from __future__ import annotations

import asyncio
import json
import sys

from callscale.backends.openai_compat import OpenAICompatBackend
from callscale.engine import Engine
from callscale.records import Request
from callscale.store import Store


def requests(n: int) -> list[Request]:
    return [
        Request.chat("smollm2-135m-instruct", f"What is {i} + {i + 7}? Answer with a number.", max_tokens=10,
                     temperature=1.0, extra={"cache_prompt": False})
        for i in range(n)
    ]


async def main(base_url: str, store_path: str, n: int) -> None:
    engine = Engine(OpenAICompatBackend(base_url, api_key_env=None, name="local", concurrency=2), store=Store(store_path))
    out = await engine.complete_many([(r, 1) for r in requests(n)])
    await engine.aclose()
    print(json.dumps({"texts": [x[0].text for x in out], "spent": engine.stats.samples}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
