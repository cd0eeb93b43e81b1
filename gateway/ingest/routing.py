"""One poll's Kafka records routed to the decoders: one batch of good ticks, plus the bad records and why.

Records are sorted by content type (headers checked once per distinct set); JSON values are
decoded together in one call, Arrow values likewise (common/codec), then everything is
concatenated: the tables see one batch per poll whatever the formats and the mix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
from aiokafka import ConsumerRecord

from common.codec import DecodeError, concat, decode_arrow_values, decode_json_values
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, Headers, parse_headers

Bad = list[tuple[ConsumerRecord, DecodeError]]


@dataclass
class Decoded:
    batch: pa.RecordBatch  # good ticks: the JSON messages' in order, then each Arrow message's
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
    batches = []
    for content_type, decode in (
        (CONTENT_TYPE_JSON, decode_json_values),
        (CONTENT_TYPE_ARROW, decode_arrow_values),
    ):
        chosen = by_format[content_type]
        if chosen:
            batch, errors = decode([r.value for r in chosen])
            bad.extend((chosen[index], error) for index, error in errors)
            batches.append(batch)
    json_messages, arrow_messages = len(by_format[CONTENT_TYPE_JSON]), len(by_format[CONTENT_TYPE_ARROW])
    return Decoded(concat(batches), bad, json_messages, arrow_messages)


def _content_type(headers: Headers | None, checked: dict[Headers | None, str]) -> str:
    try:
        return checked[headers]
    except KeyError:
        checked[headers] = content_type = parse_headers(headers)  # a DecodeError is never cached
        return content_type
    except TypeError:  # unhashable: not what aiokafka gives, but checked all the same
        return parse_headers(headers)
