"""What a request must be before Perspective's DuckDB virtual server (Rust) sees it.

The socket layer (gateway/serve/policy.py) already refuses malformed frames and mutations. The
virtual server of perspective 5.5.1 also *unwraps* where a stale or hostile frame leaves nothing,
and a Rust panic there aborts the whole process (CI, 2026-12-04: "panicked at
rust/perspective-client/src/rust/virtual_server/server.rs:410:68: called `Option::unwrap()` on a
`None` value"; a viewer's refused view took history down). Its view requests look the view's
config up with ``view_configs.get(id).unwrap()``, and a refused ``TableMakeViewReq`` still records
the view id in ``view_to_table``, so ``ViewDimensionsReq`` gets past its own check to the unwrap
(measured here on 5.5.1: view_column_paths 10, expression_schema 13, get_config 14, schema 15 and
get_min_max 20 for a view it does not hold each abort the process). The to_columns / to_rows /
to_arrow / to_csv / to_ndjson requests unwrap their ``viewport``, which the JS client leaves out
when asked for a whole view (``view.to_json()``). So: a view request must name a view this
connection made and still holds (else it is refused), and a data request without a viewport gets
the empty one, which means the whole view (bounded by HISTORY_MAX_VIEW_ROWS when it was made).
Checked on the session's worker, in request order, so a view made by the request before is known.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Final

from gateway.serve.protocol import envelope, has_field, message_field, read_head
from history.serve.validate import Refused

# Request kinds (perspective.proto, Request.client_req) whose entity_id is a view.
VIEW_KINDS: Final = frozenset({10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 34, 35, 36})
# ViewToArrowReq 16, ViewToColumnsStringReq 24, ViewToCSVReq 25, ViewToRowsStringReq 26,
# ViewToNdjsonStringReq 36: ``ViewPort viewport = 1``.
NEEDS_VIEWPORT: Final = frozenset({16, 24, 25, 26, 36})


def admit(message: bytes, views: Container[str]) -> bytes | Refused:
    """The request as the virtual server may see it (its viewport filled in), or why it may not."""
    head = read_head(message)
    if head is None:
        return Refused("malformed_request", "not a well-formed Perspective request")
    if head.kind in VIEW_KINDS and head.entity_id not in views:
        return Refused("unknown_view", f"no view {head.entity_id[:80]!r} on this connection")
    if head.kind in NEEDS_VIEWPORT and not has_field(message, head, 1):
        body = message[head.body[0] : head.body[1]]
        return envelope(head.msg_id, head.entity_id, message_field(head.kind, message_field(1) + body))
    return message
