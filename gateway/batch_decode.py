"""One poll's Kafka records -> one batch of good ticks, plus the bad records and why.

JSON values are decoded together in one call per partition, Arrow values likewise, then
everything is concatenated: the tables see one batch per poll whatever the formats and the
mix. Each row's partition comes along, because order only means something within one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from aiokafka import ConsumerRecord

from common.codec import EMPTY_BATCH
from common.errors import DecodeError
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, Headers, parse_headers
from common.schema import ARROW_SCHEMA
from gateway.arrow_decode import decode_arrow_values
from gateway.json_decode import decode_json_values

Bad = list[tuple[ConsumerRecord, DecodeError]]


@dataclass
class Decoded:
    batch: pa.RecordBatch  # good ticks: the JSON messages' in order, then each Arrow message's
    partitions: np.ndarray  # the Kafka partition of each row of ``batch``
    bad: Bad = field(default_factory=list)
    json_messages: int = 0
    arrow_messages: int = 0


def decode_records(records: Sequence[ConsumerRecord]) -> Decoded:
    bad: Bad = []
    by_format: dict[str, list[ConsumerRecord]] = {CONTENT_TYPE_JSON: [], CONTENT_TYPE_ARROW: []}
    # A producer sends the same headers on every message: check each distinct set once per poll.
    checked: dict[Headers | None, str] = {}
    for record in records:
        try:
            content_type = _content_type(record.headers, checked)
            if record.value is None:
                raise DecodeError("empty_message", "message has no value (tombstone)")
            by_format[content_type].append(record)
        except DecodeError as error:
            bad.append((record, error))
    batches: list[pa.RecordBatch] = []
    partitions: list[np.ndarray] = []
    for content_type, decode in (
        (CONTENT_TYPE_JSON, decode_json_values),
        (CONTENT_TYPE_ARROW, decode_arrow_values),
    ):
        for partition, chosen in _by_partition(by_format[content_type]).items():
            batch, errors = decode([r.value for r in chosen])
            bad.extend((chosen[index], error) for index, error in errors)
            batches.append(batch)
            partitions.append(np.full(batch.num_rows, partition, dtype=np.int32))
    json_messages, arrow_messages = len(by_format[CONTENT_TYPE_JSON]), len(by_format[CONTENT_TYPE_ARROW])
    rows = np.concatenate(partitions) if partitions else np.empty(0, dtype=np.int32)
    return Decoded(_concat(batches), rows, bad, json_messages, arrow_messages)


def _by_partition(records: list[ConsumerRecord]) -> dict[int, list[ConsumerRecord]]:
    """Records per partition, each in its order (a poll's records mostly come grouped already)."""
    groups: dict[int, list[ConsumerRecord]] = {}
    for record in records:
        groups.setdefault(record.partition, []).append(record)
    return groups


def _content_type(headers: Headers | None, checked: dict[Headers | None, str]) -> str:
    try:
        return checked[headers]
    except KeyError:
        checked[headers] = content_type = parse_headers(headers)  # a DecodeError is never cached
        return content_type
    except TypeError:  # unhashable: not what aiokafka gives, but checked all the same
        return parse_headers(headers)


def _concat(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(batches) == 1:
        return batches[0]
    if not batches:
        return EMPTY_BATCH
    combined = pa.Table.from_batches(batches, schema=ARROW_SCHEMA).combine_chunks().to_batches()
    return combined[0] if combined else EMPTY_BATCH
