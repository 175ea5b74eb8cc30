"""A simulated backend that takes a little time per call and records the most calls in flight."""

from __future__ import annotations

import asyncio
from typing import Any

from callscale.backends.base import Batch
from callscale.backends.simulated import SimulatedBackend
from callscale.records import Completion


class SlowBackend(SimulatedBackend):
    """``peak`` is the largest number of ``generate`` calls that were running at once."""

    def __init__(self, *args: Any, delay_s: float = 0.005, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delay_s = delay_s
        self.in_flight = 0
        self.peak = 0

    async def generate(self, batch: Batch) -> list[Completion]:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
            return await super().generate(batch)
        finally:
            self.in_flight -= 1
