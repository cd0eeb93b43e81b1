"""Every way a tick goes on and off the wire, in one home, shared by producer, gateway and tests.

JSON (one tick per message) and Arrow IPC (a batch per message) both decode to a
``pyarrow.RecordBatch`` with ``ARROW_SCHEMA``, so the gateway has one shape to feed
Perspective whichever format a producer chose.

- ``json_format`` / ``arrow_format``: encode, and strict decode (the reference behaviour);
- ``json_fast`` / ``arrow_fast``: many messages at once, same results as strict, faster;
- ``validate``: vectorised value checks on a typed batch;
- ``rejected``: ``DecodeError``, the one rejected-message type, and its stable reasons;
- ``batch``: the empty batch and the one concat helper.
"""

from common.codec.arrow_fast import decode_arrow_counted, decode_arrow_values
from common.codec.arrow_format import decode_arrow, encode_arrow, encode_batch, encode_columns
from common.codec.batch import EMPTY_BATCH, concat
from common.codec.json_fast import SLOW_PATH_BELOW, decode_json_values
from common.codec.json_format import decode_json_batch, encode_json
from common.codec.rejected import REASONS, DecodeError, Rejections

__all__ = [
    "EMPTY_BATCH",
    "REASONS",
    "SLOW_PATH_BELOW",
    "DecodeError",
    "Rejections",
    "concat",
    "decode_arrow",
    "decode_arrow_counted",
    "decode_arrow_values",
    "decode_json_batch",
    "decode_json_values",
    "encode_arrow",
    "encode_batch",
    "encode_columns",
    "encode_json",
]
