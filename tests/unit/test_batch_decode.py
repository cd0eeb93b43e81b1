"""One poll's records -> good ticks plus the bad records and why: headers are judged per record,
even though each distinct set of headers is checked only once per poll."""

from __future__ import annotations

from aiokafka import ConsumerRecord

from common.codec import encode_arrow, encode_json
from common.codec.routing import decode_records
from common.headers import CONTENT_TYPE_ARROW, CONTENT_TYPE_JSON, make_headers
from tests.support.ticks import SAMPLE

GOOD = tuple(make_headers(CONTENT_TYPE_JSON, "p"))
XML = (("content-type", b"text/xml"), ("schema-version", b"1"))


def record(offset: int, headers: object) -> ConsumerRecord:
    value = encode_json({**SAMPLE, "producer_id": "p", "seq": offset + 1})
    return ConsumerRecord("t", 0, offset, 0, 0, b"k", value, None, 1, len(value), headers)


def test_bad_headers_among_good_ones_are_each_rejected_and_the_good_ones_kept() -> None:
    records = [record(n, XML if n % 3 == 1 else GOOD) for n in range(9)]
    decoded = decode_records(records)
    assert decoded.batch.column("seq").to_pylist() == [1, 3, 4, 6, 7, 9]
    assert [(r.offset, e.reason) for r, e in decoded.bad] == [(n, "unknown_content_type") for n in (1, 4, 7)]


def test_unhashable_headers_are_still_checked() -> None:
    decoded = decode_records([record(0, [list(h) for h in GOOD]), record(1, [["content-type", b"x"]])])
    assert decoded.batch.column("seq").to_pylist() == [1]
    assert [e.reason for _, e in decoded.bad] == ["unknown_content_type"]


def test_each_row_carries_its_partition() -> None:
    records = [
        ConsumerRecord(
            "t", partition, offset, 0, 0, b"k", r.value, None, 1, r.serialized_value_size, r.headers
        )
        for offset, (partition, r) in enumerate(
            (p, record(n, XML if n == 2 else GOOD)) for n, p in enumerate([3, 0, 3, 3, 0])
        )
    ]
    decoded = decode_records(records)
    rows = list(zip(decoded.batch.column("seq").to_pylist(), decoded.partitions.tolist(), strict=True))
    assert sorted(rows) == [(1, 3), (2, 0), (4, 3), (5, 0)]
    assert [r.offset for r, _ in decoded.bad] == [2]


def test_arrow_rows_carry_their_message_partition_and_a_rejected_message_gives_none() -> None:
    arrow = tuple(make_headers(CONTENT_TYPE_ARROW, "a"))

    def message(partition: int, offset: int, seqs: range, cut: bool = False) -> ConsumerRecord:
        value = encode_arrow([{**SAMPLE, "producer_id": "a", "seq": s} for s in seqs])
        value = value[:-40] if cut else value
        return ConsumerRecord("t", partition, offset, 0, 0, b"a", value, None, 1, len(value), arrow)

    records = [message(2, 0, range(1, 4)), message(5, 0, range(4, 6), cut=True), message(4, 0, range(6, 8))]
    decoded = decode_records([*records, record(0, GOOD)])
    rows = list(zip(decoded.batch.column("seq").to_pylist(), decoded.partitions.tolist(), strict=True))
    assert rows == [(1, 0), (1, 2), (2, 2), (3, 2), (6, 4), (7, 4)]  # JSON first, then Arrow
    assert [(r.partition, e.reason) for r, e in decoded.bad] == [(5, "truncated_arrow")]
