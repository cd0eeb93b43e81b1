"""The Perspective tables clients rely on (names fixed by the design contract)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.schema import perspective_schema

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
    "status": "string",  # live | stale (gateway/health.py)
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
    Arrow batches ~6x faster into an indexed table (see shared/NOTES.md).
    """
    return Tables(
        ticks=client.table({"slot": "integer", **perspective_schema()}, index="slot", name=TICKS),
        quotes=client.table(QUOTE_SCHEMA, index="symbol", name=QUOTES),
        bars=client.table(BAR_SCHEMA, index="key", name=BARS),
        producers=client.table(PRODUCER_SCHEMA, index="producer_id", name=PRODUCERS),
        gateway=client.table(GATEWAY_SCHEMA, index="id", name=GATEWAY),
    )
