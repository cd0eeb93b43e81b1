"""`python -m gateway`: Kafka into Perspective tables, served read-only over WebSocket."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import sys

import pyarrow

from common.runtime import configure_logging
from common.settings import load_or_exit
from gateway.app import run
from gateway.settings import GatewaySettings

_M_ARENA_MAX = -8  # mallopt(3)


def _cap_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives threads their own malloc arenas (up to 8 per core) and rarely returns their
    freed pages; with the Kafka, worker and Perspective threads that is tens of MB of RSS for
    nothing. Same as MALLOC_ARENA_MAX=2, but it holds however the gateway is started."""
    name = ctypes.util.find_library("c")
    try:
        if name is None or ctypes.CDLL(name).mallopt(_M_ARENA_MAX, arenas) != 1:
            raise OSError("mallopt refused")
    except (OSError, AttributeError) as error:  # not glibc: nothing to cap
        logging.getLogger(__name__).debug("malloc arenas not capped: %s", error)


def main() -> int:
    _cap_malloc_arenas()
    settings = load_or_exit(GatewaySettings, sys.argv[1:], "gateway")
    configure_logging(settings.log_level)
    # jemalloc (pyarrow's default pool) keeps freed decode buffers around: with malloc the
    # gateway ends 2M Arrow ticks at ~340 MB instead of ~410 MB (bench/memory.py, same run).
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
