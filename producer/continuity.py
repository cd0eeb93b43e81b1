"""Each symbol's last published tick, read back from the tail of the tick topic.

A symbol that changes hands (or a producer that restarts) continues from there instead of
the seed's base price. The tick topic itself is the record: no second "state" topic that
could disagree with what viewers saw. JSON ticks are keyed by symbol, so a symbol's last
tick is in one known partition; Arrow messages are keyed by producer, so every partition's
tail is read and the newest tick wins (by event time, then by offset and row).

A partition is read backwards in growing windows until every symbol it may hold is found,
its start is reached, or the bounds below stop it; a symbol not found keeps the state the
producer already has (the seed's, on a first start).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pyarrow as pa
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from common.aio import bounded, close_quietly
from common.codec import DecodeError, decode_json_batch
from common.codec.message import decode_message
from common.headers import CONTENT_TYPE, CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, header
from producer.kafka import KeyPartitions

log = logging.getLogger(__name__)

FIRST_WINDOW = 512  # messages; each next window back is 4x the last
MAX_MESSAGES_BACK = 200_000  # per partition
STOP_TIMEOUT_S = 0.5  # nothing to hand over: it only reads
READ_BUDGET_S = 3.0  # for one read-back, all partitions
STATE_FIELDS = ("price", "open", "high", "low", "volume")

Last = dict[str, tuple[tuple[int, int, int], dict[str, Any]]]  # symbol -> (order key, state)


class TailReader:
    """A consumer without a group, kept open between read-backs so each costs only its reads."""

    def __init__(self, bootstrap_servers: str, topic: str, request_timeout_s: float) -> None:
        self.topic = topic
        self._timeout = request_timeout_s
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            enable_auto_commit=False,
            request_timeout_ms=30_000,
            # A broker answers a connection's requests in order: a long-polling fetch would hold
            # every offset lookup behind it for the default 500 ms.
            fetch_max_wait_ms=20,
        )

    async def start(self) -> None:
        await bounded(self._consumer.start(), self._timeout)

    async def stop(self) -> None:
        await close_quietly(self._consumer.stop(), STOP_TIMEOUT_S, "tail reader")

    async def last_states(
        self, symbols: set[str], partitions: set[int], keyed_by_symbol: bool
    ) -> dict[str, dict[str, Any]]:
        """The newest state found for each of ``symbols``; missing ones were not found in bounds."""
        found: Last = {}
        if not symbols or not partitions:
            return {}
        deadline = time.monotonic() + READ_BUDGET_S
        wanted = _wanted_per_partition(symbols, partitions, keyed_by_symbol)
        tps = [TopicPartition(self.topic, partition) for partition in wanted]
        try:
            self._consumer.assign(tps)
            begins = await bounded(self._consumer.beginning_offsets(tps), self._timeout)
            ends = await bounded(self._consumer.end_offsets(tps), self._timeout)
            for tp in tps:
                span = (begins[tp], ends[tp])
                await self._read_back(tp, span, wanted[tp.partition], found, deadline)
        except (TimeoutError, KafkaError, OSError) as exc:
            log.warning("reading back the last ticks stopped early: %s", str(exc) or type(exc).__name__)
        return {symbol: state for symbol, (_, state) in found.items()}

    async def _read_back(
        self, tp: TopicPartition, span: tuple[int, int], needed: set[str], found: Last, deadline: float
    ) -> None:
        begin, high = span
        end, window, seen_here = high, FIRST_WINDOW, set[str]()
        while end > begin and not needed <= seen_here and high - end < MAX_MESSAGES_BACK:
            if time.monotonic() > deadline:
                log.warning("read-back budget of %.0fs spent at %s offset %d", READ_BUDGET_S, tp, end)
                return
            start = max(begin, end - window)
            records = await self._read_range(tp, start, end, deadline)
            seen_here |= _take_newest(records, needed, found)
            end, window = start, window * 4

    async def _read_range(self, tp: TopicPartition, start: int, end: int, deadline: float) -> list[Any]:
        self._consumer.seek(tp, start)
        records: list[Any] = []
        while time.monotonic() < deadline:
            batch = await self._consumer.getmany(tp, timeout_ms=200, max_records=5000)
            records.extend(r for r in batch.get(tp, []) if r.offset < end)
            if await self._consumer.position(tp) >= end:
                break
        return records


def _wanted_per_partition(symbols: set[str], partitions: set[int], keyed: bool) -> dict[int, set[str]]:
    if not keyed:
        return {partition: set(symbols) for partition in sorted(partitions)}
    keys = KeyPartitions()
    keys.update(partitions)
    wanted: dict[int, set[str]] = {}
    for symbol in symbols:
        wanted.setdefault(keys.of(symbol.encode()), set()).add(symbol)
    return wanted


def _take_newest(records: list[Any], needed: set[str], found: Last) -> set[str]:
    """Keep in ``found`` the newest tick of each needed symbol; return the symbols seen."""
    seen: set[str] = set()
    for batch, offsets in _decoded(records):
        columns = batch.select(["symbol", *STATE_FIELDS]).to_pydict()
        event_ms = batch.column("event_time").cast(pa.int64()).to_pylist()
        for row, symbol in enumerate(columns["symbol"]):
            if symbol not in needed:
                continue
            seen.add(symbol)
            order = (event_ms[row], offsets[row], row)
            if symbol not in found or found[symbol][0] < order:
                found[symbol] = (order, {name: columns[name][row] for name in STATE_FIELDS})
    return seen


def _decoded(records: list[Any]) -> list[tuple[pa.RecordBatch, list[int]]]:
    """Good ticks with the offset of each row; bad messages are the gateway's to count, not ours."""
    json_records = [r for r in records if header(r.headers, CONTENT_TYPE) == CONTENT_TYPE_JSON]
    parts: list[tuple[pa.RecordBatch, list[int]]] = []
    if json_records:
        batch, errors = decode_json_batch([r.value for r in json_records])
        bad = {index for index, _ in errors}
        parts.append((batch, [r.offset for i, r in enumerate(json_records) if i not in bad]))
    for record in records:
        if header(record.headers, CONTENT_TYPE) == CONTENT_TYPE_ARROW:
            try:
                batch = decode_message(record.value, record.headers)
            except DecodeError:
                continue
            parts.append((batch, [record.offset] * batch.num_rows))
    return parts
