"""CPython's cyclic garbage collector, tuned for a process that holds many young objects in flight
(the gateway and history: both read Kafka through aiokafka, a record at a time).

The gateway keeps up to GATEWAY_MAX_RECORDS Kafka records waiting to be applied, each a few
GC-tracked objects (aiokafka's ConsumerRecord and its headers list). With CPython's default
thresholds (700, 10, 10) a young collection runs every 700 allocations and walks every record
still waiting. Measured in issue 18:
- a dashboard at 10k ticks/s: `gc_collect_main` was 30% of the gateway's GIL time (py-spy --native --gil);
- JSON ingest of one 300k-tick topic, fresh processes, interleaved: 87-106k ticks/s with the defaults
  (6 runs), 115-124k with these settings (120-123k without the freeze), 131-139k with no collection;
- history's JSON ingest of the same kind of topic: 84-92k ticks/s with the defaults, 106-107k with these.
Cycles are still collected, every GEN0_THRESHOLD allocations instead of every 700, so memory stays
bounded. A larger threshold was slower again (200k: 110-112k ticks/s): each collection then walks
a young generation that large.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000


def tune() -> None:
    """Call once, after start-up: what exists then (modules, settings) is left out of every collection."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, older, oldest)
