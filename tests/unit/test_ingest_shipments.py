"""What crosses from an ingest worker to the gateway: decoded polls, pickled, merged into one update,
and the worker's own figures, which reach the gateway's metrics."""

from __future__ import annotations

import pickle

import pytest
from aiokafka import ConsumerRecord

from common.codec import DecodeError
from common.codec.routing import Decoded, decode_records
from gateway.ingest.worker import Shipment, WorkerStatus
from gateway.ingest.workers import WorkerPool
from tests.support.ingest import T0, Message, as_arrow, as_json, metric, settings, tick


def _records(messages: list[Message], partition: int, first_offset: int = 0) -> list[ConsumerRecord]:
    return [
        ConsumerRecord(
            "t",
            partition,
            first_offset + i,
            T0,
            0,
            key,
            value,
            None,
            len(key),
            len(value),
            tuple(headers) if headers is not None else (),  # as aiokafka hands them over
        )
        for i, (key, value, headers) in enumerate(messages)
    ]


def test_a_decode_error_keeps_its_reason_and_detail_through_pickle() -> None:
    error = pickle.loads(pickle.dumps(DecodeError("bad_json", "line 1: expected a value")))
    assert (error.reason, error.detail) == ("bad_json", "line 1: expected a value")
    assert str(error) == "bad_json: line 1: expected a value"


def test_a_shipment_arrives_equal_through_pickle() -> None:
    poll = decode_records(
        _records(
            [
                as_json(tick("a", 1, "AAA", 1.5, T0)),
                (b"k", b"{not json", as_json(tick("a", 2, "B", 1, T0))[2]),
            ],
            4,
        )
    )
    shipment = Shipment(1, WorkerStatus(True, True, False, {4: 7, 5: 0, 7: 0}), poll, {4: 2}, 1)
    arrived = pickle.loads(pickle.dumps(shipment, protocol=pickle.HIGHEST_PROTOCOL))
    assert arrived.status == shipment.status and arrived.applied == {4: 2} and arrived.rebuilt == 1
    assert (arrived.status.lag, arrived.status.partitions) == (7, 3)
    assert arrived.decoded is not None
    assert arrived.decoded.batch.equals(poll.batch)
    assert arrived.decoded.partitions.tolist() == [4]
    [(record, error)] = arrived.decoded.bad
    assert (record.partition, record.offset, record.value) == (4, 1, b"{not json")
    assert error.reason == poll.bad[0][1].reason


def test_merged_polls_keep_every_row_its_partition_and_every_reject_in_order() -> None:
    first = decode_records(_records([as_json(tick("a", s, "AAA", 1.0, T0 + s)) for s in (1, 2)], 0))
    second = decode_records(
        _records([as_arrow([tick("b", s, "BBB", 2.0, T0 + s) for s in (1, 2, 3)]), (b"k", b"", None)], 1)
    )
    merged = Decoded.merge([first, second])
    assert merged.batch.column("seq").to_pylist() == [1, 2, 1, 2, 3]
    assert merged.batch.column("producer_id").to_pylist() == ["a", "a", "b", "b", "b"]
    assert merged.partitions.tolist() == [0, 0, 1, 1, 1]
    assert [record.offset for record, _ in merged.bad] == [1]
    assert (merged.json_messages, merged.arrow_messages) == (2, 1)
    assert len(merged.header_sets) == len(set(first.header_sets) | set(second.header_sets)) == 2


@pytest.mark.parametrize("count", [1, 3])
def test_merging_one_poll_or_many_of_nothing_gives_what_went_in(count: int) -> None:
    empty = decode_records([])
    merged = Decoded.merge([empty] * count)
    assert merged.batch.num_rows == 0
    assert merged.partitions.tolist() == []
    assert merged.bad == []


def _status(index: int, lags: dict[int, int] | None = None, rebuilt: int = 0) -> Shipment:
    return Shipment(index, WorkerStatus(True, True, True, lags or {}), None, {}, rebuilt)


def _pool() -> WorkerPool:
    return WorkerPool(settings("127.0.0.1:1", "t", ingest_workers=2))  # never started: no process


def test_each_workers_partition_lags_become_the_gateways_lag_metric() -> None:
    pool = _pool()
    pool.took([_status(0, {900: 7, 902: 0}), _status(1, {901: 3})])  # labels no other test sets
    assert [metric("gateway_consumer_lag", partition=str(p)) for p in (900, 901, 902)] == [7, 3, 0]
    pool.took([_status(0, {900: 1, 902: 0})])
    assert metric("gateway_consumer_lag", partition="900") == 1


def test_a_workers_rebuilds_are_counted_once_each_and_per_worker() -> None:
    pool = _pool()
    before = metric("gateway_kafka_reconnects_total")
    pool.took([_status(0, rebuilt=2), _status(1, rebuilt=1)])
    pool.took([_status(0)])  # the next poll: no new rebuild
    pool.statuses[0] = WorkerStatus()  # as when worker 1 dies; a shipment it sent before still counts
    pool.took([_status(0, rebuilt=1), _status(1)])
    assert metric("gateway_kafka_reconnects_total") - before == 4
