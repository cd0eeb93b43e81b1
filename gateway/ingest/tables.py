"""The Perspective tables clients rely on: each one's schema and the building of its rows.

Names and columns are fixed by the design contract; nothing else in the gateway spells a
column list out, so a column is added here or nowhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from common.schema import FIELDS, perspective_schema
from gateway.ingest.bars import Bar
from gateway.ingest.first_write import GuardedTable
from gateway.ingest.roster import Roster
from gateway.ingest.sequence import ProducerState

TICKS = "ticks"
QUOTES = "quotes"
BARS = "bars"
PRODUCERS = "producers"
GATEWAY = "gateway"

# change = price - open, change_pct = that as % of open; `open` is the day open the tick carries.
QUOTE_SCHEMA = {
    "symbol": "string",
    "name": "string",
    "exchange": "string",
    "sector": "string",
    "price": "float",
    "bid": "float",
    "ask": "float",
    "bid_size": "integer",
    "ask_size": "integer",
    "open": "float",
    "high": "float",
    "low": "float",
    "close": "float",
    "change": "float",
    "change_pct": "float",
    "volume": "integer",
    "ticks": "integer",
    "event_time": "datetime",
    "producer_id": "string",
}
BAR_SCHEMA = {
    "key": "string",
    "symbol": "string",
    "bucket": "datetime",
    "open": "float",
    "high": "float",
    "low": "float",
    "close": "float",
    "volume": "integer",
    "ticks": "integer",
}
PRODUCER_SCHEMA = {
    "producer_id": "string",
    "ticks": "integer",
    "ticks_per_s": "float",
    "last_seq": "integer",
    "gaps": "integer",
    "duplicates": "integer",
    "out_of_order": "integer",
    "last_seen": "datetime",
    "status": "string",  # 'live', or 'stale' when last_seen is older than GATEWAY_PRODUCER_STALE_S
    "owned_symbols": "integer",  # from the producers' roster headers (null: a producer without them)
    "rebalances": "integer",
}
GATEWAY_SCHEMA = {
    "id": "integer",
    "ingest_ticks_per_s": "float",
    "ticks_total": "integer",
    "lag": "integer",
    "decode_errors": "integer",
    "dlq": "integer",
    "duplicates": "integer",
    "latency_p50_ms": "float",
    "latency_p99_ms": "float",
    "clients": "integer",
    "uptime_s": "float",
    "partitions": "integer",
    "status": "string",  # live | stale (gateway/ingest/health.py)
    "reason": "string",  # why stale, in words; "" when live
}


@dataclass
class Tables:
    ticks: Any
    quotes: Any
    bars: Any
    producers: Any
    gateway: Any


def create_tables(client: Any) -> Tables:
    """Create every hosted table on ``client`` (a local client of the gateway's server).

    ``ticks`` is a ring keyed by ``slot`` rather than a ``limit`` table: Perspective takes
    Arrow batches ~6x faster into an indexed table (see shared/NOTES.md). Each is guarded
    against Perspective's hang on a write into an empty table (first_write.py).
    """
    return Tables(
        ticks=GuardedTable(
            client.table({"slot": "integer", **perspective_schema()}, index="slot", name=TICKS)
        ),
        quotes=GuardedTable(client.table(QUOTE_SCHEMA, index="symbol", name=QUOTES)),
        bars=GuardedTable(client.table(BAR_SCHEMA, index="key", name=BARS)),
        producers=GuardedTable(client.table(PRODUCER_SCHEMA, index="producer_id", name=PRODUCERS)),
        gateway=GuardedTable(client.table(GATEWAY_SCHEMA, index="id", name=GATEWAY)),
    )


def _dictionary(column: pa.Array) -> pa.Array:
    """Strings dictionary-encoded: Perspective interns them anyway, and takes them ~30% faster."""
    return pc.dictionary_encode(column) if pa.types.is_string(column.type) else column


def tick_rows(batch: pa.RecordBatch, slots: np.ndarray) -> pa.Table:
    """``ticks`` rows: each tick as it came, in the ring slot it overwrites."""
    columns = [pa.array(slots), *(_dictionary(c) for c in batch.columns)]
    return pa.Table.from_arrays(columns, names=["slot", *batch.schema.names])


_QUOTE_FROM_TICK = tuple(name for name in QUOTE_SCHEMA if name in FIELDS)  # the rest are computed


def quote_rows(last: pa.RecordBatch, ticks: list[int]) -> pa.Table:
    """``quotes`` rows from the last tick of each symbol and its running tick count."""
    price, opened = last.column("price"), last.column("open")
    change = pc.subtract(price, opened)
    columns = {name: last.column(name) for name in _QUOTE_FROM_TICK}
    columns["change"] = change
    columns["change_pct"] = pc.multiply(pc.divide(change, opened), 100.0)
    columns["ticks"] = pa.array(ticks, pa.int64())
    return pa.table(columns)


def bar_rows(bars: list[Bar]) -> pa.Table:
    return pa.table(
        {
            "key": [b.key for b in bars],
            "symbol": [b.symbol for b in bars],
            "bucket": pa.array([b.bucket for b in bars], pa.timestamp("ms")),
            "open": [b.open for b in bars],
            "high": [b.high for b in bars],
            "low": [b.low for b in bars],
            "close": [b.close for b in bars],
            "volume": pa.array([b.volume for b in bars], pa.int64()),
            "ticks": pa.array([b.ticks for b in bars], pa.int64()),
        }
    )


def producer_rows(
    producers: Mapping[str, ProducerState],
    rate: Callable[[str, int], float],
    stale_before_ms: float,
    roster: Roster,
) -> dict[str, list[Any]]:
    """``producers`` rows, one per producer id; ``rate(id, ticks)`` gives its ticks/s, a producer
    whose newest tick is older than ``stale_before_ms`` shows as stale, and ``roster`` gives
    what each says it owns."""
    states = list(producers.values())
    return {
        "producer_id": list(producers),
        "ticks": [p.ticks for p in states],
        "ticks_per_s": [rate(pid, p.ticks) for pid, p in producers.items()],
        "last_seq": [p.last_seq for p in states],
        "gaps": [p.gaps for p in states],
        "duplicates": [p.duplicates for p in states],
        "out_of_order": [p.out_of_order for p in states],
        "last_seen": [p.last_seen_ms for p in states],
        "status": ["stale" if p.last_seen_ms < stale_before_ms else "live" for p in states],
        **roster.columns(list(producers)),
    }


def gateway_rows(**values: float | str) -> list[dict[str, Any]]:
    """The one ``gateway`` row; every column but ``id`` must be given, by name."""
    missing = GATEWAY_SCHEMA.keys() - {"id", *values}
    unknown = values.keys() - GATEWAY_SCHEMA.keys()
    if missing or unknown:
        raise ValueError(f"gateway row: missing {sorted(missing)}, unknown {sorted(unknown)}")
    return [{"id": 0, **values}]
