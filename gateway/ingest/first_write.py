"""Writes into an empty table are made with the engine's thread pool widened: else they can hang.

Perspective 5.5.1 has its own path for a write into an empty table (gnode.cpp
``_process_table``: "first update - master table is empty"). It rebuilds every view of the
table, one task per view on Arrow's CPU pool (``_update_contexts_from_state``). A grouped
view's task (``group_by`` or ``split_by``) then splits its aggregates over the same pool
(``sparse_tree.cpp``, ``update_agg_table``) and waits for them. With at least as many grouped
views as pool threads, every thread waits on tasks that only a free thread could run. The
write never returns, and the tables thread hangs holding the engine's lock: every client
request, ``/metrics`` and SIGTERM wait behind it for good.

Measured in process, perspective 5.5.1 on 2 cores:
- on a pool of 2 (the default), 2 grouped views on an empty table hung the first write 3 runs of 3;
- on a pool of 1, 1 grouped view was enough;
- once the table held a row, the same views took 300 writes on a pool of 1 or 2.

The gateway meets this for real: `bars` is empty until its first write, one bars cadence
after the first ticks. Pages that reconnect to a restarted gateway make their candles view
(grouped) in that window. This is the CI hang of 2026-12-04 (one engine thread, one page);
on 2 cores, 2 pages do it (``tests/integration/test_gateway_grouped_views.py``).

Arrow starts pool threads only as tasks wait for them, so a wide pool costs nothing until it
is used. The first write with 50 grouped views started 76 threads and took 16 ms; those threads
leave once the width is set back.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import perspective

log = logging.getLogger(__name__)

# Grouped views one empty table can have before its first write would hang again. Arrow caps
# the threads, not the views, so the cap bounds what a flood of views could start (~1 MB each).
WIDE_POOL: Final = 1024


class GuardedTable:
    """A hosted table whose writes into an empty state run on the widened pool.

    Only the tables thread writes, and it is the only one that resizes the pool after start.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self._empty = True  # until a write leaves rows; removes may empty it again

    def update(self, data: Any) -> None:
        if not self._empty:
            self.table.update(data)
            return
        width = perspective.num_cpus()
        perspective.set_num_cpus(WIDE_POOL)
        try:
            self.table.update(data)
        finally:
            perspective.set_num_cpus(width)
        self._empty = self.table.size() == 0
        log.debug("first rows into empty table %s written on a pool of %d", self.table.get_name(), WIDE_POOL)

    def remove(self, keys: Any) -> None:
        self.table.remove(keys)
        self._empty = self.table.size() == 0

    def __getattr__(self, name: str) -> Any:  # reads (view, size, schema...) go to the table
        return getattr(self.table, name)
