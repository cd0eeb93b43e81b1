"""`python -m history`: every tick of the topic kept in a DuckDB file, exactly once."""

from __future__ import annotations

import asyncio
import os
import sys

import pyarrow

from common import collector, malloc
from common.runtime import configure_logging
from common.settings import load_or_exit
from history.app import run
from history.settings import HistorySettings


def main() -> int:
    malloc.tune()  # 2 arenas, big buffers as mmaps: the decoder, writer and DuckDB threads share them
    settings = load_or_exit(HistorySettings, sys.argv[1:], "history")
    configure_logging(settings.log_level)
    # Where history shares cores with the gateway (make run, compose on one host), the live path
    # comes first: history's lag is harmless, it commits only what it stored and catches up.
    os.nice(settings.nice)
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())  # as the gateway: freed buffers go back
    collector.tune()  # JSON history ingest 84-92k -> 106-107k ticks/s (2 runs each, interleaved)
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
