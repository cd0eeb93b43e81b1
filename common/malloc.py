"""glibc malloc settings for a long-running process that streams large Arrow buffers (gateway, history).

Measured with bench/memory.py (10M Arrow ticks through the gateway, RSS at the end):
the defaults keep ~160 MB more than these. Set with mallopt(3) at start, so they hold however
the gateway is launched (same as MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=1048576).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# Threads get their own arenas (up to 8 per core) whose freed pages are rarely returned.
ARENAS = 2
# glibc raises its mmap threshold to the size of any mmapped block freed (up to 32 MiB), after
# which decode buffers come from the heap and fragment it; a fixed threshold keeps each one an
# mmap, returned to the system when freed.
MMAP_THRESHOLD = 1 << 20

_trimmable: ctypes.CDLL | None = None


def tune() -> None:
    global _trimmable
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is None or not (
            libc.mallopt(_M_ARENA_MAX, ARENAS) == 1 and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        ):
            raise OSError("mallopt refused")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        _trimmable = libc
    except (OSError, AttributeError) as error:  # not glibc: its allocator has its own defaults
        log.debug("malloc left at its defaults: %s", error)


def trim() -> None:
    """Give freed heap pages back to the system: glibc returns only the top of each heap by itself,
    so pages freed below live blocks (every ring update frees some) stay in RSS until this."""
    if _trimmable is not None:
        _trimmable.malloc_trim(0)
