"""Viewer processes for the latency benchmark: real Perspective clients over WebSocket.

`python -m bench.viewer URL COUNT SECONDS [MEASURED]` opens COUNT clients, each with a view on
`quotes` and one on `ticks` receiving row deltas, and prints JSON: every (receive time -
event_time) in ms seen by the first MEASURED clients (default all). The others still receive
every delta but do not decode it, so one process can hold many viewers without falling behind.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import orjson
import pyarrow as pa

from harness.psp import connect

MAX_SAMPLES = 200_000


async def one_viewer(url: str, seconds: float, samples: list[float], measured: bool = True) -> None:
    async with connect(url) as client:
        ticks = await client.open_table("ticks")
        quotes = await client.open_table("quotes")
        tick_view = await ticks.view(columns=["event_time"])
        quote_view = await quotes.view()

        def on_ticks(port_id: int, delta: Any = None) -> None:
            if delta is None or not measured or len(samples) >= MAX_SAMPLES:
                return
            now = time.time() * 1000
            table = pa.ipc.open_stream(pa.py_buffer(delta)).read_all()
            times = table.column("event_time").cast(pa.int64()).to_pylist()
            samples.extend(now - t for t in times if t)

        await tick_view.on_update(on_ticks, mode="row")
        await quote_view.on_update(lambda *args: None)
        await asyncio.sleep(seconds)


async def main(url: str, count: int, seconds: float, measured: int) -> None:
    samples: list[float] = []
    await asyncio.gather(*(one_viewer(url, seconds, samples, i < measured) for i in range(count)))
    sys.stdout.buffer.write(orjson.dumps({"samples": samples}))


if __name__ == "__main__":
    count = int(sys.argv[2])
    asyncio.run(
        main(sys.argv[1], count, float(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else count)
    )
