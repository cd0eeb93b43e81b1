"""One poll's Kafka records routed to the decoders: one batch of good ticks, plus the bad records and why.

Shared by the gateway and history, which must accept and refuse exactly the same messages.
Not re-exported by ``common.codec`` (it needs common/headers.py, which needs the codec).

Records are sorted by content type (headers checked once per distinct set); JSON values are
decoded together in one call, Arrow values likewise (common/codec), then everything is
concatenated: the tables see one batch per poll whatever the formats and the mix. Each row's
partition comes along, because order only means something within one partition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from aiokafka import ConsumerRecord

from common.codec import EMPTY_BATCH, DecodeError, concat, decode_arrow_counted, decode_json_values
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, Headers, parse_headers

Bad = list[tuple[ConsumerRecord, DecodeError]]


@dataclass
class Decoded:
    batch: pa.RecordBatch  # good ticks: the JSON messages' in order, then each Arrow message's
    partitions: np.ndarray  # the Kafka partition of each row of ``batch``
    bad: Bad = field(default_factory=list)
    json_messages: int = 0
    arrow_messages: int = 0
    header_sets: list[Headers | None] = field(default_factory=list)  # distinct ones, for the roster

    @staticmethod
    def merge(parts: Sequence[Decoded]) -> Decoded:
        """Several polls' results as one, at least one (the gateway's ingest workers each decode a share)."""
        if len(parts) == 1:
            return parts[0]
        return Decoded(
            concat([part.batch for part in parts]),
            np.concatenate([part.partitions for part in parts]),
            [bad for part in parts for bad in part.bad],
            sum(part.json_messages for part in parts),
            sum(part.arrow_messages for part in parts),
            list(dict.fromkeys(headers for part in parts for headers in part.header_sets)),
        )


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
    json_batch, json_partitions = _decode_json(by_format[CONTENT_TYPE_JSON], bad)
    arrow_batch, arrow_partitions = _decode_arrow(by_format[CONTENT_TYPE_ARROW], bad)
    json_messages, arrow_messages = len(by_format[CONTENT_TYPE_JSON]), len(by_format[CONTENT_TYPE_ARROW])
    partitions = np.concatenate((json_partitions, arrow_partitions))
    return Decoded(
        concat([json_batch, arrow_batch]), partitions, bad, json_messages, arrow_messages, list(checked)
    )


def _partitions(records: list[ConsumerRecord]) -> np.ndarray:
    return np.fromiter((r.partition for r in records), np.int32, len(records))


def _decode_json(chosen: list[ConsumerRecord], bad: Bad) -> tuple[pa.RecordBatch, np.ndarray]:
    """One row per good message: the rows' partitions are the records' without the rejected ones."""
    if not chosen:
        return EMPTY_BATCH, _partitions([])
    batch, errors = decode_json_values([r.value for r in chosen])
    bad.extend((chosen[index], error) for index, error in errors)
    return batch, np.delete(_partitions(chosen), [index for index, _ in errors])


def _decode_arrow(chosen: list[ConsumerRecord], bad: Bad) -> tuple[pa.RecordBatch, np.ndarray]:
    if not chosen:
        return EMPTY_BATCH, _partitions([])
    batch, errors, rows = decode_arrow_counted([r.value for r in chosen])
    bad.extend((chosen[index], error) for index, error in errors)
    return batch, np.repeat(_partitions(chosen), rows)


def _content_type(headers: Headers | None, checked: dict[Headers | None, str]) -> str:
    try:
        return checked[headers]
    except KeyError:
        checked[headers] = content_type = parse_headers(headers)  # a DecodeError is never cached
        return content_type
    except TypeError:  # unhashable: not what aiokafka gives, but checked all the same
        return parse_headers(headers)
