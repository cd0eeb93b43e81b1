"""`python -m gateway`: Kafka into Perspective tables, served read-only over WebSocket."""

from __future__ import annotations

import asyncio
import sys

import pyarrow

from common import collector, malloc
from common.runtime import configure_logging
from common.settings import load_or_exit
from gateway.app import run
from gateway.settings import GatewaySettings


def main() -> int:
    malloc.tune()
    settings = load_or_exit(GatewaySettings, sys.argv[1:], "gateway")
    configure_logging(settings.log_level)
    # jemalloc (pyarrow's default pool) keeps freed decode buffers around: with malloc the
    # gateway ends 2M Arrow ticks at ~340 MB instead of ~410 MB (bench/memory.py, same run).
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    collector.tune()  # last: what start-up made is frozen out of every collection
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
