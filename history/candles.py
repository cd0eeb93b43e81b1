"""1-minute candles kept as a table, folded in with each transaction's new ticks.

A view over ``ticks`` would recompute every candle of a symbol on each query: H2 measured one
symbol's candles at 256 ms on 5M stored ticks (and the serving side counts a view's rows before
storing it, so twice). A day of 50 symbols is only 72,000 candles, so the writer folds each
transaction's ticks into them (an upsert keyed by symbol and minute) and queries read the small
table. Ticks are de-duplicated before they get here, so ``ticks`` per candle is exact.

Open and close need the time of the first and last tick seen, and volume (a tick's cumulative
day volume) the lowest and highest seen: those four columns start with ``__``, which
Perspective's virtual server and history's validator leave out of the served schema.
"""

from __future__ import annotations

import logging
from typing import Final

import duckdb

from history.schema import BARS, CATALOG, TICKS

log = logging.getLogger(__name__)

_BARS: Final = f"{CATALOG}.{BARS}"

DDL: Final = f"""
CREATE TABLE IF NOT EXISTS {_BARS} (
    symbol VARCHAR NOT NULL,
    minute TIMESTAMP NOT NULL,
    open DOUBLE NOT NULL,
    high DOUBLE NOT NULL,
    low DOUBLE NOT NULL,
    close DOUBLE NOT NULL,
    volume BIGINT NOT NULL,
    ticks BIGINT NOT NULL,
    __first TIMESTAMP NOT NULL,
    __last TIMESTAMP NOT NULL,
    __volume_min BIGINT NOT NULL,
    __volume_max BIGINT NOT NULL,
    PRIMARY KEY (symbol, minute)
)
"""


def _fold(source: str) -> str:
    """The upsert that folds the ticks of ``source`` (a table or registered Arrow name) in."""
    return f"""
INSERT INTO {_BARS}
SELECT
    symbol,
    time_bucket(INTERVAL 1 MINUTE, event_time::TIMESTAMP) AS minute,
    arg_min(price, event_time) AS open,
    max(price) AS high,
    min(price) AS low,
    arg_max(price, event_time) AS close,
    max(volume) - min(volume) AS volume,
    count(*) AS ticks,
    min(event_time)::TIMESTAMP AS __first,
    max(event_time)::TIMESTAMP AS __last,
    min(volume) AS __volume_min,
    max(volume) AS __volume_max
FROM {source}
GROUP BY ALL
ON CONFLICT (symbol, minute) DO UPDATE SET
    open = CASE WHEN excluded.__first < __first THEN excluded.open ELSE open END,
    close = CASE WHEN excluded.__last >= __last THEN excluded.close ELSE close END,
    high = greatest(high, excluded.high),
    low = least(low, excluded.low),
    volume = greatest(__volume_max, excluded.__volume_max) - least(__volume_min, excluded.__volume_min),
    ticks = ticks + excluded.ticks,
    __first = least(__first, excluded.__first),
    __last = greatest(__last, excluded.__last),
    __volume_min = least(__volume_min, excluded.__volume_min),
    __volume_max = greatest(__volume_max, excluded.__volume_max)
"""


def create(connection: duckdb.DuckDBPyConnection) -> None:
    """The table, built from the stored ticks when it is new (or replaces the view of earlier files)."""
    kind = connection.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_catalog = ? AND table_name = ?",
        [CATALOG, BARS],
    ).fetchone()
    if kind is not None and kind[0] == "BASE TABLE":
        return
    if kind is not None:
        connection.execute(f"DROP VIEW {_BARS}")
    connection.execute(DDL)
    connection.execute(_fold(f"{CATALOG}.{TICKS}"))
    log.info("candles built from the stored ticks")


def fold(cursor: duckdb.DuckDBPyConnection, source: str) -> None:
    """Fold the new ticks of ``source`` into the candles, inside the caller's transaction."""
    cursor.execute(_fold(source))


def prune(cursor: duckdb.DuckDBPyConnection, older_than_ms: int) -> int:
    """Drop the candles whose whole minute is older than ``older_than_ms``; how many."""
    row = cursor.execute(
        f"DELETE FROM {_BARS} WHERE minute + INTERVAL 1 MINUTE <= make_timestamp_ms(?)::TIMESTAMP",
        [older_than_ms],
    ).fetchone()
    return int(row[0]) if row else 0
