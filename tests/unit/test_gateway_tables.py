"""The ingest tables: ring of ticks, quotes per symbol, 1 s bars, and the JSON fast path."""

from __future__ import annotations

from typing import Any

import orjson
import perspective
import pyarrow as pa
import pytest

from common.codec import (
    SLOW_PATH_BELOW,
    DecodeError,
    decode_arrow,
    decode_arrow_values,
    decode_json_batch,
    decode_json_values,
    encode_arrow,
    encode_json,
)
from common.schema import Tick
from gateway.ingest import writer as writer_module
from gateway.ingest.bars import BarBook
from gateway.ingest.tables import create_tables
from gateway.ingest.writer import TableWriter
from tests.support.ticks import SAMPLE

SECOND = 1_764_050_000_000  # a whole second, in epoch ms


def _tick(seq: int, symbol: str = "ACME", price: float = 100.0, at: int = SECOND, volume: int = 0) -> Tick:
    return {**SAMPLE, "symbol": symbol, "price": price, "seq": seq, "event_time": at, "volume": volume}


def _batch(ticks: list[Tick]) -> pa.RecordBatch:
    return decode_arrow(encode_arrow(ticks))


def _rows(table: Any) -> list[dict[str, Any]]:
    view = table.view()
    try:
        rows: list[dict[str, Any]] = view.to_records()
        return rows
    finally:
        view.delete()


@pytest.fixture
def writer() -> TableWriter:
    tables = create_tables(perspective.Server().new_local_client())
    return TableWriter(tables, ticks_limit=5, bars_limit=3)


def test_bar_ohlc_follows_event_time_even_when_ticks_arrive_out_of_order() -> None:
    book = BarBook(limit=10)
    book.add(_batch([_tick(2, price=105.0, at=SECOND + 500), _tick(3, price=95.0, at=SECOND + 700)]))
    changed, _ = book.add(
        _batch([_tick(1, price=100.0, at=SECOND + 100), _tick(4, price=98.0, at=SECOND + 900)])
    )
    bar = changed[0]
    assert (bar.key, bar.open, bar.high, bar.low, bar.close, bar.ticks) == (
        f"ACME|{SECOND}",
        100.0,
        105.0,
        95.0,
        98.0,
        4,
    )


def test_bar_volume_is_the_cumulative_volume_traded_within_its_second() -> None:
    book = BarBook(limit=10)
    book.add(_batch([_tick(1, at=SECOND - 10, volume=1_000)]))
    changed, _ = book.add(
        _batch([_tick(2, at=SECOND + 1, volume=1_300), _tick(3, at=SECOND + 2, volume=1_700)])
    )
    assert changed[0].volume == 700  # 1,700 at the end of this second minus 1,000 before it


def test_bars_are_split_by_symbol_and_second() -> None:
    book = BarBook(limit=10)
    changed, _ = book.add(
        _batch([_tick(1, "A", at=SECOND), _tick(2, "B", at=SECOND), _tick(3, "A", at=SECOND + 1000)])
    )
    assert sorted(bar.key for bar in changed) == [f"A|{SECOND}", f"A|{SECOND + 1000}", f"B|{SECOND}"]


def test_the_oldest_bars_are_evicted_beyond_the_limit() -> None:
    book = BarBook(limit=2)
    _, evicted = book.add(_batch([_tick(s, at=SECOND + 1000 * s) for s in range(3)]))
    assert evicted == [f"ACME|{SECOND}"]
    assert list(book.bars) == [f"ACME|{SECOND + 1000}", f"ACME|{SECOND + 2000}"]


def test_ticks_ring_keeps_the_newest_ticks_limit_rows(writer: TableWriter) -> None:
    writer.apply(_batch([_tick(s) for s in range(1, 4)]))
    writer.apply(_batch([_tick(s) for s in range(4, 9)]))
    rows = _rows(writer.tables.ticks)
    assert sorted(row["seq"] for row in rows) == [4, 5, 6, 7, 8]
    assert sorted(row["slot"] for row in rows) == [0, 1, 2, 3, 4]


def test_a_batch_larger_than_the_ring_writes_only_its_newest_rows(writer: TableWriter) -> None:
    writer.apply(_batch([_tick(s) for s in range(1, 13)]))
    assert sorted(row["seq"] for row in _rows(writer.tables.ticks)) == [8, 9, 10, 11, 12]


def test_a_batch_over_ticks_per_update_rings_its_newest_rows_and_quotes_and_bars_see_all() -> None:
    tables = create_tables(perspective.Server().new_local_client())
    capped = TableWriter(tables, ticks_limit=100, bars_limit=10, ticks_per_update=4)
    capped.apply(_batch([_tick(s, "AB"[s % 2], price=float(s), at=SECOND + s) for s in range(1, 11)]))
    quotes = {row["symbol"]: row for row in _rows(tables.quotes)}
    (bar_a,) = [row for row in _rows(tables.bars) if row["symbol"] == "A"]
    assert sorted(row["seq"] for row in _rows(tables.ticks)) == [7, 8, 9, 10]
    assert {symbol: (q["ticks"], q["price"]) for symbol, q in quotes.items()} == {
        "A": (5, 10.0),
        "B": (5, 9.0),
    }
    assert (bar_a["ticks"], bar_a["open"], bar_a["low"], bar_a["close"]) == (5, 2.0, 2.0, 10.0)


def test_bars_wait_for_their_cadence_then_fold_every_held_tick() -> None:
    tables = create_tables(perspective.Server().new_local_client())
    paced = TableWriter(tables, ticks_limit=100, bars_limit=10, bars_every_s=3600)
    paced.apply(_batch([_tick(1, price=100.0, at=SECOND + 100), _tick(2, price=105.0, at=SECOND + 500)]))
    paced.apply(_batch([_tick(3, price=95.0, at=SECOND + 700), _tick(4, price=98.0, at=SECOND + 900)]))
    held = _rows(tables.bars)
    paced.flush_bars()  # not due yet
    assert held == _rows(tables.bars) == []
    assert len(_rows(tables.quotes)) == 1  # quotes and ticks never wait
    paced.flush_bars(force=True)
    (bar,) = _rows(tables.bars)
    assert (bar["open"], bar["high"], bar["low"], bar["close"], bar["ticks"]) == (100.0, 105.0, 95.0, 98.0, 4)


def test_held_bar_ticks_fold_at_once_past_their_memory_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "BARS_HELD_MAX", 3)
    tables = create_tables(perspective.Server().new_local_client())
    paced = TableWriter(tables, ticks_limit=100, bars_limit=10, bars_every_s=3600)
    paced.apply(_batch([_tick(1), _tick(2)]))
    assert _rows(tables.bars) == []
    paced.apply(_batch([_tick(3)]))
    assert [row["ticks"] for row in _rows(tables.bars)] == [3]


def test_quotes_hold_the_last_tick_per_symbol_and_count_every_tick(writer: TableWriter) -> None:
    writer.apply(_batch([_tick(1, "A", 10.0), _tick(2, "B", 20.0), _tick(3, "A", 11.0)]))
    writer.apply(_batch([_tick(4, "A", 12.5)]))
    quotes = {row["symbol"]: row for row in _rows(writer.tables.quotes)}
    assert (quotes["A"]["price"], quotes["A"]["ticks"], quotes["B"]["price"], quotes["B"]["ticks"]) == (
        12.5,
        3,
        20.0,
        1,
    )
    assert quotes["A"]["change"] == pytest.approx(12.5 - SAMPLE["open"])
    assert quotes["A"]["change_pct"] == pytest.approx((12.5 - SAMPLE["open"]) / SAMPLE["open"] * 100)
    assert (quotes["A"]["name"], quotes["A"]["sector"], quotes["A"]["exchange"]) == (
        SAMPLE["name"],
        SAMPLE["sector"],
        SAMPLE["exchange"],
    )


def test_bars_table_rows_match_the_book(writer: TableWriter) -> None:
    writer.apply(_batch([_tick(1, price=10.0, at=SECOND + 1), _tick(2, price=12.0, at=SECOND + 2)]))
    (row,) = _rows(writer.tables.bars)
    assert (row["key"], row["open"], row["high"], row["low"], row["close"], row["ticks"]) == (
        f"ACME|{SECOND}",
        10.0,
        12.0,
        10.0,
        12.0,
        2,
    )


def _messages() -> list[bytes]:
    good = [encode_json({**SAMPLE, "seq": i, "symbol": f"S{i % 7}"}) for i in range(300)]
    missing = orjson.dumps({k: v for k, v in SAMPLE.items() if k != "price"})
    pretty = orjson.dumps(SAMPLE, option=orjson.OPT_INDENT_2)
    poison = [b"{nope", b"", b"[1]", missing, pretty, encode_json({**SAMPLE, "price": -1.0})]
    poison.append(orjson.dumps({**SAMPLE, "bid_size": 1.5}))
    poison.append(orjson.dumps({**SAMPLE, "price": None}))
    for index, value in zip(range(7, 300, 37), poison, strict=False):
        good[index] = value
    return good


def test_json_fast_path_gives_exactly_the_codecs_rows_and_reasons() -> None:
    values = _messages()
    slow_batch, slow_errors = decode_json_batch(values)
    fast_batch, fast_errors = decode_json_values(values)
    assert fast_batch.equals(slow_batch)
    assert [(i, e.reason) for i, e in fast_errors] == [(i, e.reason) for i, e in slow_errors]
    assert (len(fast_errors), fast_batch.num_rows) == (7, 293)  # the pretty-printed tick is valid


def test_json_fast_path_handles_clean_and_tiny_inputs() -> None:
    values = [encode_json({**SAMPLE, "seq": i}) for i in range(SLOW_PATH_BELOW * 3)]
    batch, errors = decode_json_values(values)
    assert (batch.num_rows, errors, batch.column("seq").to_pylist()[-1]) == (len(values), [], len(values) - 1)
    assert decode_json_values([])[0].num_rows == 0


def test_arrow_batch_path_gives_exactly_the_codecs_rows_and_reasons() -> None:
    def arrow(first: int, **changes: Any) -> bytes:
        return encode_arrow([{**SAMPLE, "seq": s, **changes} for s in range(first, first + 50)])

    values = [arrow(0), arrow(50, price=-1.0), arrow(100), b"", b"\x00garbage", arrow(150)[:-30], arrow(200)]
    batch, errors = decode_arrow_values(values)
    expected_reasons = []
    for index, value in enumerate(values):
        try:
            decode_arrow(value)
        except DecodeError as error:
            expected_reasons.append((index, error.reason, error.detail))
    assert [(i, e.reason, e.detail) for i, e in errors] == expected_reasons
    assert batch.column("seq").to_pylist() == [*range(0, 50), *range(100, 150), *range(200, 250)]
