"""Conflation for slow clients: frames queue past the watermark, data-free notifications for the
same view collapse, row deltas never do, and the backlog is bounded."""

from __future__ import annotations

import asyncio
from typing import Any

import perspective
import pytest

from gateway.serve.outbox import Outbox
from gateway.serve.protocol import error_response, notification_key


class Socket:
    """Records writes; each write's flush completes only when the test says so."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.flushes: list[asyncio.Future[None]] = []

    def write(self, message: bytes) -> asyncio.Future[None]:
        self.sent.append(message)
        self.flushes.append(asyncio.get_running_loop().create_future())
        return self.flushes[-1]

    async def flush_all(self) -> None:
        while any(not f.done() for f in self.flushes):
            for f in [f for f in self.flushes if not f.done()]:
                f.set_result(None)
            await asyncio.sleep(0)  # let the done-callbacks drain the queue


def responses(mode: str | None) -> list[bytes]:
    """Real ViewOnUpdateResp frames from perspective 5.5.1 for two table updates."""
    server = perspective.Server()
    table = server.new_local_client().table({"x": "integer"}, name="t")
    frames: list[bytes] = []
    box: dict[str, Any] = {}

    def from_server(frame: bytes) -> None:
        if box.get("subscribed"):
            frames.append(bytes(frame))
        else:
            box["client"].handle_response(frame)

    session = server.new_session(from_server)
    box["client"] = perspective.Client(session.handle_request)
    view = box["client"].open_table("t").view()
    if mode is None:
        view.on_update(lambda *args: None)
    else:
        view.on_update(lambda *args: None, mode=mode)
    box["subscribed"] = True
    table.update([{"x": 1}])
    table.update([{"x": 2}])
    return frames


def test_a_notification_without_rows_has_a_key_and_a_row_delta_has_none() -> None:
    notify = responses(None)
    deltas = responses("row")
    assert len(notify) == 2 and len(deltas) == 2
    assert notification_key(notify[0]) is not None
    assert notification_key(notify[0]) == notification_key(notify[1])
    assert [notification_key(d) for d in deltas] == [None, None]


def test_garbage_and_other_responses_are_never_conflated() -> None:
    assert notification_key(b"") is None
    assert notification_key(b"\xff\xff\xff") is None
    assert notification_key(error_response(3, "view", "no such view")) is None


@pytest.fixture
def socket() -> Socket:
    return Socket()


async def test_frames_go_out_at_once_while_the_client_keeps_up(socket: Socket) -> None:
    box = Outbox(socket.write, watermark=100, limit=1000)
    for n in range(5):
        assert box.send(bytes([n]) * 10)
        await socket.flush_all()
    assert len(socket.sent) == 5 and box.backlog == 0


async def test_past_the_watermark_frames_wait_and_leave_in_order(socket: Socket) -> None:
    box = Outbox(socket.write, watermark=100, limit=10_000)
    frames = [bytes([n]) * 60 for n in range(6)]
    for frame in frames:
        box.send(frame)
    assert socket.sent == frames[:2]  # the second write took in-flight bytes past 100
    assert box.queued_bytes == 240
    await socket.flush_all()
    assert socket.sent == frames and box.backlog == 0


async def test_a_backlogged_client_gets_one_notification_per_view_and_every_row_delta(socket: Socket) -> None:
    conflated: list[int] = []
    box = Outbox(socket.write, watermark=1, limit=10**6, on_conflated=lambda: conflated.append(1))
    notify, deltas = responses(None), responses("row")
    box.send(b"\x08\x07" + b"x" * 10)  # a snapshot in flight: everything after it waits
    for _ in range(50):
        box.send(notify[0])
    box.send(deltas[0])
    box.send(deltas[1])
    await socket.flush_all()
    assert socket.sent[1:] == [notify[0], deltas[0], deltas[1]]
    assert len(conflated) == 49


async def test_a_notification_sent_after_the_queue_drains_is_not_lost(socket: Socket) -> None:
    box = Outbox(socket.write, watermark=1, limit=10**6)
    notify = responses(None)[0]
    box.send(b"snapshot")
    box.send(notify)
    await socket.flush_all()
    box.send(b"snapshot")
    box.send(notify)
    await socket.flush_all()
    assert socket.sent.count(notify) == 2


async def test_a_client_whose_backlog_passes_the_limit_is_refused(socket: Socket) -> None:
    box = Outbox(socket.write, watermark=10, limit=100)
    accepted = [box.send(b"r" * 40) for _ in range(5)]
    assert accepted == [True, True, True, False, False]  # 120 bytes unsent > 100: give up


async def test_a_failed_write_drops_the_queue(socket: Socket) -> None:
    box = Outbox(socket.write, watermark=1, limit=10**6)
    box.send(b"a")
    box.send(b"b")
    socket.flushes[0].set_exception(ConnectionError("gone"))
    await asyncio.sleep(0)
    assert socket.sent == [b"a"] and box.backlog == 0
