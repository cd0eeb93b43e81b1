"""The DuckDB file: ticks appended one transaction per poll, de-duplicated, with their offsets.

The file is ATTACHed to an in-memory database as ``history`` and never made the default
(no ``USE``): the serving side runs Perspective's DuckDB virtual server on cursors of this same
connection, and the scratch tables it creates per view must land in memory, never in the file.

Each cursor is a connection of its own and is not thread-safe: the writer's cursor is used by
the one writer thread only, the pruner's by the pruner's thread only.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from common.seqset import RangeSet
from history import candles, schema
from history.dedup import SeenSeqs, ranges_table

log = logging.getLogger(__name__)

_TICKS = f"{schema.CATALOG}.{schema.TICKS}"
_SEEN = f"{schema.CATALOG}.{schema.SEEN}"
_OFFSETS = f"{schema.CATALOG}.{schema.OFFSETS}"


@dataclass(frozen=True)
class Appended:
    stored: int
    duplicates: int
    seconds: float


class HistoryStore:
    def __init__(self, db_path: str, memory_limit_mb: int = 256, threads: int = 2) -> None:
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": f"{memory_limit_mb}MB",
            "threads": threads,
            # The main database is in memory, which has no spill folder by default: a query or a
            # view bigger than memory_limit would fail instead of spilling next to the file.
            "temp_directory": f"{self.path}.tmp",
        }
        self.connection = duckdb.connect(":memory:", config=config)
        quoted = str(self.path).replace("'", "''")
        self.connection.execute(f"ATTACH '{quoted}' AS {schema.CATALOG}")
        for ddl in (schema.ticks_ddl(), schema.SEEN_DDL, schema.OFFSETS_DDL):
            self.connection.execute(ddl)
        candles.create(self.connection)
        self._writer = self.connection.cursor()
        self._pruner = self.connection.cursor()
        self.seen = SeenSeqs(self._load_seen())
        self.open = True
        log.info("history database %s: %d ticks stored", self.path, self.count())

    def stored_offsets(self, topic: str) -> dict[int, int]:
        """The next offset to read per partition, as of the last committed transaction."""
        rows = self._writer.execute(
            f"SELECT partition_id, next_offset FROM {_OFFSETS} WHERE topic = ?", [topic]
        ).fetchall()
        return {int(partition): int(offset) for partition, offset in rows}

    def append(self, batch: pa.RecordBatch | pa.Table, topic: str, offsets: dict[int, int]) -> Appended:
        """Store ``batch``'s new ticks and move ``offsets`` on, in ONE transaction (writer thread)."""
        started = time.perf_counter()
        fresh = self.seen.fresh(batch)
        cursor = self._writer
        cursor.execute("BEGIN TRANSACTION")
        try:
            if fresh.ranges:
                # The common case keeps every row: no copy (the filter was 10% of the writer's time).
                kept = batch if fresh.duplicates == 0 else batch.filter(pa.array(fresh.keep))
                cursor.register("incoming", kept)
                cursor.execute(f"INSERT INTO {_TICKS} BY NAME SELECT * FROM incoming")
                candles.fold(cursor, "incoming")
                cursor.register("ranges", ranges_table(fresh.ranges))
                cursor.execute(f"DELETE FROM {_SEEN} WHERE producer_id IN (SELECT producer_id FROM ranges)")
                cursor.execute(f"INSERT INTO {_SEEN} SELECT * FROM ranges")
            if offsets:
                cursor.register("positions", _offsets_table(topic, offsets))
                cursor.execute(f"INSERT OR REPLACE INTO {_OFFSETS} SELECT * FROM positions")
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        finally:
            for name in ("incoming", "ranges", "positions"):
                cursor.unregister(name)
        self.seen.commit(fresh)
        stored = int(fresh.keep.sum())
        return Appended(stored, fresh.duplicates, time.perf_counter() - started)

    def prune(self, older_than_ms: int) -> int:
        """Delete ticks with ``event_time`` before ``older_than_ms`` (pruner thread); how many."""
        row = self._pruner.execute(
            f"DELETE FROM {_TICKS} WHERE event_time < make_timestamp_ms(?)", [older_than_ms]
        ).fetchone()
        candles.prune(self._pruner, older_than_ms)
        return int(row[0]) if row else 0

    def count(self) -> int:
        row = self.connection.cursor().execute(f"SELECT count(*) FROM {_TICKS}").fetchone()
        return int(row[0]) if row else 0

    def size_bytes(self) -> int:
        """The file and its write-ahead log."""
        return sum(_size(Path(f"{self.path}{suffix}")) for suffix in ("", ".wal"))

    def close(self) -> None:
        if self.open:
            self.open = False
            self.connection.execute("CHECKPOINT")
            self.connection.close()

    def _load_seen(self) -> dict[str, RangeSet]:
        ranges: dict[str, RangeSet] = {}
        rows = self._writer.execute(
            f"SELECT producer_id, start, stop FROM {_SEEN} ORDER BY producer_id, start"
        )
        for producer, start, stop in rows.fetchall():
            ranges.setdefault(producer, RangeSet()).add(int(start), int(stop))
        return ranges


def _offsets_table(topic: str, offsets: dict[int, int]) -> pa.Table:
    return pa.table(
        {
            "topic": pa.array([topic] * len(offsets), pa.string()),
            "partition_id": pa.array(list(offsets), pa.int32()),
            "next_offset": pa.array(list(offsets.values()), pa.int64()),
        }
    )


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
