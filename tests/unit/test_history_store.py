"""The history store on a real DuckDB file: one transaction per poll, no (producer_id, seq) twice."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from common.codec import decode_arrow, encode_arrow
from history.poll import Polled, merge
from history.store import HistoryStore
from tests.support.ticks import numbered

T0 = numbered(0)["event_time"]


def _batch(seqs: list[int], producer: str = "p1", **changes: object) -> pa.RecordBatch:
    return decode_arrow(encode_arrow([numbered(s, producer, **changes) for s in seqs]))


def _seqs(store: HistoryStore, producer: str = "p1") -> list[int]:
    rows = store.connection.execute(
        "SELECT seq FROM history.ticks WHERE producer_id = ? ORDER BY seq", [producer]
    ).fetchall()
    return [int(seq) for (seq,) in rows]


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "history.duckdb")


def test_a_batch_is_stored_with_its_offsets(path: str) -> None:
    store = HistoryStore(path)
    appended = store.append(_batch([1, 2, 3]), "ticks", {0: 7, 3: 2})
    assert (appended.stored, appended.duplicates) == (3, 0)
    assert _seqs(store) == [1, 2, 3]
    assert store.stored_offsets("ticks") == {0: 7, 3: 2}
    assert store.stored_offsets("other") == {}


def test_repeats_within_a_batch_and_across_batches_are_stored_once(path: str) -> None:
    store = HistoryStore(path)
    first = store.append(_batch([1, 2, 2, 3, 1]), "ticks", {0: 5})
    second = store.append(_batch([3, 4, 2, 5]), "ticks", {0: 9})
    assert (first.stored, first.duplicates, second.stored, second.duplicates) == (3, 2, 2, 2)
    assert _seqs(store) == [1, 2, 3, 4, 5]


def test_the_same_seq_from_two_producers_is_two_ticks(path: str) -> None:
    store = HistoryStore(path)
    store.append(pa.concat_batches([_batch([1, 2], "a"), _batch([1, 2], "b")]), "ticks", {0: 4})
    assert (_seqs(store, "a"), _seqs(store, "b")) == ([1, 2], [1, 2])


def test_after_reopening_the_file_stored_seqs_are_still_refused(path: str) -> None:
    store = HistoryStore(path)
    store.append(_batch([1, 2, 3, 7]), "ticks", {1: 4})
    store.close()
    reopened = HistoryStore(path)
    appended = reopened.append(_batch([2, 3, 4, 7, 8]), "ticks", {1: 9})
    assert (appended.stored, appended.duplicates) == (2, 3)
    assert _seqs(reopened) == [1, 2, 3, 4, 7, 8]
    assert reopened.stored_offsets("ticks") == {1: 9}


def test_pruned_ticks_replayed_later_are_not_stored_again(path: str) -> None:
    store = HistoryStore(path)
    store.append(_batch([1, 2, 3, 4]), "ticks", {0: 4})
    removed = store.prune(T0 + 100 * 3)  # numbered(seq) is stamped T0 + 100 * seq
    store.close()
    reopened = HistoryStore(path)
    replayed = reopened.append(_batch([1, 2, 3, 4]), "ticks", {0: 4})
    assert removed == 2  # seqs 1 and 2: older than seq 3
    assert (replayed.stored, replayed.duplicates) == (0, 4)
    assert _seqs(reopened) == [3, 4]


def test_a_failed_transaction_stores_nothing_and_moves_no_offset(path: str) -> None:
    store = HistoryStore(path)
    store.append(_batch([1]), "ticks", {0: 1})
    nullable = pa.schema([field.with_nullable(True) for field in _batch([2]).schema])
    bad = pa.RecordBatch.from_pylist([{**numbered(2, "p1"), "price": None}], nullable)
    with pytest.raises(duckdb.ConstraintException):
        store.append(bad, "ticks", {0: 2})
    retried = store.append(_batch([2]), "ticks", {0: 2})
    assert retried.stored == 1  # the failed one did not mark seq 2 as seen
    assert _seqs(store) == [1, 2]
    assert store.stored_offsets("ticks") == {0: 2}


def test_scratch_tables_of_the_connection_land_in_memory_not_in_the_file(path: str) -> None:
    store = HistoryStore(path)
    store.connection.cursor().execute("CREATE TABLE scratch AS SELECT 1 AS x")
    catalogs = store.connection.execute(
        "SELECT database_name FROM duckdb_tables() WHERE table_name = 'scratch'"
    ).fetchall()
    assert catalogs == [("memory",)]


def test_the_candles_view_reads_the_stored_ticks(path: str) -> None:
    store = HistoryStore(path)
    store.append(_batch(list(range(1, 9))), "ticks", {0: 8})  # one minute, symbols cycle over 4
    rows = store.connection.execute(
        "SELECT symbol, open, close, ticks FROM history.bars_1m ORDER BY symbol"
    ).fetchall()
    assert rows == [
        ("AAA", 104.0, 108.0, 2),
        ("BBB", 101.0, 105.0, 2),
        ("CCC", 102.0, 106.0, 2),
        ("DDD", 103.0, 107.0, 2),
    ]


def test_polls_merged_into_one_transaction_keep_order_bad_records_and_the_furthest_offsets() -> None:
    first = Polled(3, _batch([1, 2]), [], {0: 5, 1: 2})
    second = Polled(2, _batch([3]), [], {0: 7, 2: 1})
    merged = merge([first, second])
    assert merged.batch.column("seq").to_pylist() == [1, 2, 3]
    assert (merged.messages, merged.offsets) == (5, {0: 7, 1: 2, 2: 1})
