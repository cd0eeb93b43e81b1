"""The gateway's side of the ingest workers (GATEWAY_INGEST_WORKERS > 0): start them, receive
their shipments, and answer for readiness as a ``KafkaSource`` does.

Each worker (gateway/ingest/worker.py) reads a share of the partitions. A thread per worker
receives its pickled shipments (the unpickling releases nothing, but the pipe reads do) and puts
them in the inbox on the event loop, waiting while the inbox is full: then the worker waits in its
send, and the read-ahead stays bounded as in process. The gateway is up, assigned and caught up
when every worker says so in the last shipment the tables took.

A worker that dies is started again on its share, from the offsets after the last shipment received:
nothing lost, nothing applied twice.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from gateway.ingest import worker
from gateway.ingest.inbox import Inbox
from gateway.ingest.source import show_lags
from gateway.ingest.worker import Shipment, WorkerStatus
from gateway.metrics import BROKER_UP, RECONNECTS, WORKER_RESTARTS
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

RESTART_PAUSE_S = 1.0  # between a worker's death and its replacement: no tight crash loop
_STOP_S = 5.0


def _shipment_bytes(shipment: Shipment) -> int:
    return 0 if shipment.decoded is None else shipment.decoded.batch.nbytes


class WorkerPool:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.count = settings.ingest_workers
        self.statuses = [WorkerStatus() for _ in range(self.count)]
        # Per worker, the offsets after what it shipped: all of that reaches the tables, so a worker
        # started again reads on from here.
        self.received: list[dict[int, int]] = [{} for _ in range(self.count)]
        # Counted in shipments (one per worker poll, each up to max_records) and bounded in bytes.
        self.inbox: Inbox[Shipment] = Inbox(2 * self.count, settings.max_batch_bytes, _shipment_bytes)
        self._processes: list[BaseProcess | None] = [None] * self.count
        self._context = multiprocessing.get_context("spawn")  # no fork of a process holding threads
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    @property
    def broker_up(self) -> bool:
        return all(status.broker_up for status in self.statuses)

    @property
    def assigned(self) -> bool:
        return all(status.assigned for status in self.statuses)

    @property
    def caught_up(self) -> bool:
        return all(status.caught_up for status in self.statuses)

    def lag(self) -> int:
        return sum(status.lag for status in self.statuses)

    @property
    def partition_count(self) -> int:
        return sum(status.partitions for status in self.statuses)

    @property
    def pids(self) -> list[int | None]:
        """Each worker's process id (None before it starts), for operators and tests."""
        return [None if process is None else process.pid for process in self._processes]

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for index in range(self.count):
            self._start(index)

    def took(self, shipments: list[Shipment]) -> None:
        """The tables hold these shipments' ticks: their statuses are now true of the tables."""
        for shipment in shipments:
            self.statuses[shipment.index] = shipment.status
            show_lags(shipment.status.lags)  # a worker's own metrics stay in its process
            RECONNECTS.inc(shipment.rebuilt)
        BROKER_UP.set(self.broker_up)

    async def stop(self) -> None:
        self._stopping = True
        for process in self._processes:
            if process is not None and process.is_alive():
                process.terminate()  # a worker holds nothing to flush: offsets live in the gateway's tables
        for process in self._processes:
            if process is not None:
                await asyncio.to_thread(process.join, _STOP_S)
                if process.is_alive():
                    process.kill()

    def _start(self, index: int) -> None:
        receiving, sending = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=worker.main,
            args=(self.settings, index, self.count, sending, dict(self.received[index])),
            name=f"gateway-ingest-{index + 1}",
            daemon=True,  # never outlives the gateway
        )
        process.start()
        sending.close()  # ours is the receiving end: EOF once the worker is gone
        self._processes[index] = process
        threading.Thread(
            target=self._receive, args=(index, receiving), name=f"ingest-receive-{index + 1}", daemon=True
        ).start()

    def _receive(self, index: int, pipe: Connection) -> None:
        assert self._loop is not None
        while True:
            try:
                shipment = pipe.recv()
            except (EOFError, OSError):
                break
            asyncio.run_coroutine_threadsafe(self._deliver(shipment), self._loop).result()
        pipe.close()
        if not self._stopping:
            self._loop.call_soon_threadsafe(self._died, index)

    async def _deliver(self, shipment: Shipment) -> None:
        await self.inbox.room()
        self.inbox.put([shipment])
        self.received[shipment.index].update(shipment.applied)

    def _died(self, index: int) -> None:
        process = self._processes[index]
        code = None if process is None else process.exitcode
        log.error(
            "ingest worker %d of %d ended (exit code %s): starting it again", index + 1, self.count, code
        )
        self.statuses[index] = WorkerStatus()
        WORKER_RESTARTS.inc()
        BROKER_UP.set(False)
        assert self._loop is not None
        self._loop.call_later(RESTART_PAUSE_S, self._restart, index)

    def _restart(self, index: int) -> None:
        if not self._stopping:
            self._start(index)
