"""The history database's shape: one table of ticks and the 1-minute candles derived from it.

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


# A tick's volume is the symbol's cumulative day volume: a minute's volume is its rise.
BARS_DDL: Final = f"""
CREATE OR REPLACE VIEW {CATALOG}.{BARS} AS
SELECT
    symbol,
    time_bucket(INTERVAL 1 MINUTE, event_time) AS minute,
    arg_min(price, event_time) AS open,
    max(price) AS high,
    min(price) AS low,
    arg_max(price, event_time) AS close,
    max(volume) - min(volume) AS volume,
    count(*) AS ticks
FROM {CATALOG}.{TICKS}
GROUP BY symbol, minute
"""

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
