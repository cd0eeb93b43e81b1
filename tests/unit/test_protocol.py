"""The wire reader that keeps tables read-only: it names every request a real client sends,
sees through smuggling, never raises on garbage, and its error reply is one the client reads."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import perspective
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.serve.protocol import MAKE_VIEW, MUTATING, error_response, new_view_id, read_head
from tests.support.frames import field, request
from tests.support.recorder import Recorder

TABLES = {"t": {"x": "integer"}, "u": {"x": "integer"}}
Action = Callable[[Any], Awaitable[Any]]


async def _open(client: Any) -> Any:
    return await client.open_table("t")


async def _update(client: Any) -> Any:
    return await (await _open(client)).update([{"x": 1}])


async def _replace(client: Any) -> Any:
    return await (await _open(client)).replace([{"x": 1}])


async def _clear(client: Any) -> Any:
    return await (await _open(client)).clear()


async def _remove(client: Any) -> Any:
    # The recorder's table has no index, so the server says no: the request was sent all the same.
    with contextlib.suppress(perspective.PerspectiveError):
        await (await _open(client)).remove([1])


async def _delete(client: Any) -> Any:
    return await (await client.open_table("u")).delete()


async def _make_table(client: Any) -> Any:
    return await client.table({"y": "string"}, name="rogue")


async def _join(client: Any) -> Any:
    return await client.join("t", "u", "x")


async def _size(client: Any) -> Any:
    return await (await _open(client)).size()


async def _view(client: Any) -> Any:
    return await (await _open(client)).view()


async def _names(client: Any) -> Any:
    return await client.get_hosted_table_names()


KINDS: list[tuple[Action, int]] = [
    (_update, 33),
    (_replace, 32),
    (_clear, 32),
    (_remove, 31),
    (_delete, 28),
    (_make_table, 27),
    (_join, 38),
    (_size, 8),
    (_view, 6),
    (_names, 4),
]


@pytest.mark.parametrize(("action", "kind"), KINDS, ids=[a.__name__.strip("_") for a, _ in KINDS])
async def test_each_request_a_real_client_sends_is_named_by_its_kind(action: Action, kind: int) -> None:
    async with Recorder(TABLES) as recorder:
        request = await recorder.last_request(action)
    head = read_head(request)
    assert head is not None
    assert head.kind == kind
    assert (head.mutating is not None) == (kind in MUTATING)


async def test_request_id_and_entity_are_read() -> None:
    async with Recorder(TABLES) as recorder:
        request = await recorder.last_request(_size)
    head = read_head(request)
    assert head is not None
    assert head.entity_id == "t"
    assert head.msg_id > 0


async def test_an_update_smuggled_behind_a_harmless_kind_is_malformed() -> None:
    """Protobuf lets the last member of a oneof win: `size` then `update` would be an update."""
    async with Recorder(TABLES) as recorder:
        update = await recorder.last_request(_update)
    kind_at = update.index(b"\x12\x01t") + 3  # after msg_id and entity_id "t"
    smuggled = update[:kind_at] + b"\x42\x00" + update[kind_at:]  # field 8 (size), empty
    assert read_head(smuggled) is None


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\x08\x01",  # msg_id only: no kind
        b"\x08\x01\x12\x01t",  # and an entity: still no kind
        b"\x08",  # truncated varint
        b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x1a\x00",  # varint longer than 10 bytes
        b"\x1a\x05ab",  # length beyond the frame
        b"\x0a\x01x\x1a\x00",  # msg_id as bytes
        b"\x10\x01\x1a\x00",  # entity_id as a varint
        b"\x08\x01\x12\x02\xff\xfe\x1a\x00",  # entity_id not UTF-8
        b"\x08\x01\x1b\x1c",  # a group (wire type 3)
        b"\x08\x01\x18\x05",  # kind as a varint, not a message
        b"\x08\x01\x1a\x00\x22\x00",  # two kinds
        b"\x00\x00",  # field 0
        b"\x08\x01" * 9 + b"\x1a\x00",  # more fields than a request has
    ],
)
def test_malformed_frames_are_refused(frame: bytes) -> None:
    assert read_head(frame) is None


def test_a_megabyte_of_tiny_fields_is_refused_without_reading_it_all() -> None:
    frame = b"\x08\x01" * 500_000
    started = time.perf_counter()
    assert read_head(frame) is None
    assert time.perf_counter() - started < 0.01


def test_a_large_payload_is_skipped_by_length() -> None:
    payload = b"\x00" * 1_000_000
    frame = field(1, 0, 7) + field(33, 2, payload)
    head = read_head(frame)
    assert head is not None
    assert (head.msg_id, head.kind, head.mutating) == (7, 33, "table_update")


@given(st.binary(max_size=300))
def test_random_bytes_never_raise(frame: bytes) -> None:
    head = read_head(frame)
    assert head is None or head.kind >= 3


FIELDS = st.lists(
    st.builds(field, st.integers(1, 60), st.sampled_from([0, 2]), st.binary(max_size=20)), max_size=6
)


@given(FIELDS, st.sampled_from(sorted(MUTATING)), st.integers(0, 6))
def test_a_mutating_kind_anywhere_is_never_read_as_harmless(fields: list[bytes], kind: int, at: int) -> None:
    fields.insert(at % (len(fields) + 1), field(kind, 2, b""))
    frame = b"".join(fields)
    head = read_head(frame)
    assert head is None or head.mutating is not None


async def test_the_view_id_a_real_client_asks_for_is_read() -> None:
    async with Recorder(TABLES) as recorder:
        make_view = await recorder.last_request(_view)
    head = read_head(make_view)
    assert head is not None
    view_id = new_view_id(make_view, head)
    assert view_id is not None
    assert len(view_id) >= 16  # a random id chosen by the client
    assert view_id.encode() in make_view


@pytest.mark.parametrize(
    ("body", "view_id"),
    [
        (field(1, 2, b"quotes"), "quotes"),
        (b"", ""),
        (field(1, 2, b"\xff"), None),  # not UTF-8
        (field(1, 2, b"abc")[:-1], None),  # truncated inside the kind's own message
    ],
)
def test_new_view_id_reads_only_inside_the_make_view_message(body: bytes, view_id: str | None) -> None:
    frame = request(9, "quotes", MAKE_VIEW, body)
    head = read_head(frame)
    if head is None:
        assert view_id is None
        return
    assert new_view_id(frame, head) == view_id


async def test_the_error_reply_matches_the_servers_own_error_reply() -> None:
    """The server answers a view on a missing column with ServerError: ours is byte-identical."""
    async with Recorder(TABLES) as recorder:
        with pytest.raises(perspective.PerspectiveError, match="Invalid column"):
            await (await recorder.client.open_table("t")).view(columns=["nope"])
        request, reply = recorder.sent[-1], recorder.received[-1]
    head = read_head(request)
    assert head is not None
    message = "Invalid column 'nope' found in View columns.\n"
    assert error_response(head.msg_id, head.entity_id, message) == reply


async def test_a_client_rejects_with_the_message_of_our_error_reply() -> None:
    answered: list[bytes] = []

    async def send(message: bytes) -> None:
        head = read_head(bytes(message))
        assert head is not None
        reply = error_response(head.msg_id, head.entity_id, "table_update refused: tables are read-only")
        answered.append(reply)
        await client.handle_response(reply)

    client = perspective.AsyncClient(send)
    with pytest.raises(perspective.PerspectiveError, match="refused: tables are read-only"):
        await client.get_hosted_table_names()
    assert len(answered) == 1
