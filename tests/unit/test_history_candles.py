"""history/candles.py: the candles table folded per transaction equals candles computed at once."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from history import candles, schema

T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC, a minute boundary


def _db(path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:")
    connection.execute(f"ATTACH '{path}' AS {schema.CATALOG}")
    connection.execute(schema.ticks_ddl())
    candles.create(connection)
    return connection


def _ticks(rows: list[tuple[str, int, float, int]]) -> pa.Table:
    symbol, ms, price, volume = zip(*rows, strict=True)
    return pa.table(
        {
            "symbol": pa.array(symbol),
            "event_time": pa.array(ms, pa.timestamp("ms")),
            "price": pa.array(price, pa.float64()),
            "volume": pa.array(volume, pa.int64()),
        }
    )


def _fold(connection: duckdb.DuckDBPyConnection, rows: list[tuple[str, int, float, int]]) -> None:
    connection.register("incoming", _ticks(rows))
    candles.fold(connection, "incoming")
    connection.unregister("incoming")


def _bars(connection: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return connection.execute(
        "SELECT symbol, open, high, low, close, volume, ticks FROM history.bars_1m ORDER BY symbol, minute"
    ).fetchall()


def test_two_transactions_fold_into_the_candle_one_would_make(tmp_path: Path) -> None:
    connection = _db(tmp_path / "h.duckdb")
    _fold(connection, [("AAA", T0 + 10_000, 10.0, 100), ("AAA", T0 + 20_000, 12.0, 130)])
    # The second transaction holds a tick from before the first's (another partition was behind).
    _fold(connection, [("AAA", T0 + 5_000, 11.0, 90), ("AAA", T0 + 50_000, 9.0, 170)])
    assert _bars(connection) == [("AAA", 11.0, 12.0, 9.0, 9.0, 80, 4)]


def test_each_symbol_and_minute_is_its_own_candle(tmp_path: Path) -> None:
    connection = _db(tmp_path / "h.duckdb")
    _fold(connection, [("AAA", T0, 1.0, 1), ("BBB", T0, 2.0, 1), ("AAA", T0 + 60_000, 3.0, 5)])
    assert [(row[0], row[6]) for row in _bars(connection)] == [("AAA", 1), ("AAA", 1), ("BBB", 1)]


def test_the_hidden_columns_are_not_in_the_served_schema(tmp_path: Path) -> None:
    from history.serve.handler import hosted_schemas

    served = hosted_schemas(_db(tmp_path / "h.duckdb"))[f"{schema.CATALOG}.{schema.BARS}"]
    assert list(served) == ["symbol", "minute", "open", "high", "low", "close", "volume", "ticks"]


def test_pruning_drops_only_whole_minutes_older_than_the_cut(tmp_path: Path) -> None:
    connection = _db(tmp_path / "h.duckdb")
    _fold(connection, [("AAA", T0, 1.0, 1), ("AAA", T0 + 60_000, 2.0, 2), ("AAA", T0 + 120_000, 3.0, 3)])
    assert candles.prune(connection, T0 + 90_000) == 1  # the first minute ended before the cut
    assert [row[1] for row in _bars(connection)] == [2.0, 3.0]


def test_a_file_with_stored_ticks_gets_its_candles_built_at_open(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    connection = duckdb.connect(":memory:")
    connection.execute(f"ATTACH '{path}' AS {schema.CATALOG}")
    rows = _ticks([("AAA", T0, 1.0, 1), ("AAA", T0 + 1000, 2.0, 4)])
    connection.register("rows", rows)  # the columns candles read, stored before candles existed
    connection.execute("CREATE TABLE history.ticks AS SELECT * FROM rows")
    candles.create(connection)
    assert _bars(connection) == [("AAA", 1.0, 2.0, 1.0, 2.0, 3, 2)]
