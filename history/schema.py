"""The history database's shape: the ticks table, the candles' name, and the bookkeeping tables.

The tick columns come from common/schema.FIELDS, so a new tick field reaches history with
no edit here. ``event_time`` is stored as a TIMESTAMP (milliseconds) so that Perspective
shows and filters it as a datetime.
"""

from __future__ import annotations

from typing import Final

from common.schema import FIELDS, Kind

CATALOG: Final = "history"  # the file is attached under this name, whatever it is called
TICKS: Final = "ticks"
BARS: Final = "bars_1m"
# What the virtual server lists and serves: nothing else in the database is reachable.
HOSTED: Final = (f"{CATALOG}.{TICKS}", f"{CATALOG}.{BARS}")

_SQL_TYPES: Final[dict[Kind, str]] = {
    Kind.STRING: "VARCHAR",
    Kind.FLOAT: "DOUBLE",
    Kind.INTEGER: "BIGINT",
    Kind.EPOCH_MS: "TIMESTAMP_MS",
}


def ticks_ddl() -> str:
    columns = ",\n    ".join(f'"{name}" {_SQL_TYPES[kind]} NOT NULL' for name, kind in FIELDS.items())
    return f"CREATE TABLE IF NOT EXISTS {CATALOG}.{TICKS} (\n    {columns}\n)"


# The 1-minute candles (`bars_1m`) are a table kept by history/candles.py.

# Bookkeeping, written in the same transaction as the ticks and never hosted.
# Every (producer_id, seq) ever stored, as ranges [start, stop): one row per producer while its
# seqs have no holes. Kept after the ticks are pruned, so a replay cannot store them again.
SEEN: Final = "seen"
SEEN_DDL: Final = f"""
CREATE TABLE IF NOT EXISTS {CATALOG}.{SEEN} (
    producer_id VARCHAR NOT NULL,
    start BIGINT NOT NULL,
    stop BIGINT NOT NULL
)
"""
# The next Kafka offset to read per partition, durable with the rows it led to.
OFFSETS: Final = "offsets"
OFFSETS_DDL: Final = f"""
CREATE TABLE IF NOT EXISTS {CATALOG}.{OFFSETS} (
    topic VARCHAR NOT NULL,
    partition_id INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    PRIMARY KEY (topic, partition_id)
)
"""
