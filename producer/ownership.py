"""Which symbols this producer publishes, and the handovers when that changes.

A revoke stops every symbol at once (the eager protocol revokes everything) and waits, bounded,
until what was already generated is acknowledged: the next owner is assigned only after this
producer rejoins, so it then reads our last ticks back from Kafka and continues from them.
An assignment continues each newly owned symbol from its last published tick; symbols kept
through the rebalance go on from the state in memory, which is that same last tick.
"""

from __future__ import annotations

import logging

import numpy as np

from common.headers import roster_headers
from producer.continuity import TailReader
from producer.generator import Generator
from producer.sender import Sender

log = logging.getLogger(__name__)

FLUSH_ON_REVOKE_S = 2.0  # within the group's rebalance timeout; the next owner waits for this


def shard_members(universe_size: int, shards: set[int], total: int) -> np.ndarray:
    """Universe indices in ``shards`` (index i is in shard i % total): even shards, even split."""
    return np.array([i for i in range(universe_size) if i % total in shards], dtype=np.int64)


class Ownership:
    def __init__(
        self,
        generator: Generator,
        sender: Sender,
        reader: TailReader,
        base_headers: list[tuple[str, bytes]],
    ) -> None:
        self.generator = generator
        self.sender = sender
        self.reader = reader
        self.rebalances = 0
        self.partitions: set[int] = set()  # of the tick topic, for finding a symbol's last tick
        self._base_headers = base_headers
        self._held: set[int] = set()  # owned when the current rebalance began
        self._active = False  # between an assignment and the next revoke

    async def start_static(self, owned: np.ndarray) -> None:
        """A fixed selection (PRODUCER_SHARD/SYMBOL_LIST or no split): a restart is a handover too."""
        await self._continue(set(owned.tolist()))
        self._publish(owned)
        self._announce(len(owned))
        log.info("publishing %d symbols (a static selection, no group)", len(owned))

    async def revoked(self) -> None:
        if self._active:
            self._held = set(self.generator.owned.tolist())
        self._active = False
        self._publish(np.empty(0, dtype=np.int64))  # the headers stay: what is flushed was made owning them
        await self.sender.drain(FLUSH_ON_REVOKE_S)
        log.info(
            "rebalance: stopped %d symbols (%d ticks still unacknowledged)",
            len(self._held),
            self.sender.buffered_ticks + self.sender.inflight_ticks,
        )

    async def assigned(self, shards: set[int], total: int) -> None:
        self.rebalances += 1
        owned = shard_members(len(self.generator.market), shards, total)
        taken_over = set(owned.tolist()) - self._held
        await self._continue(taken_over)
        self._held, self._active = set(), True
        self._publish(owned)
        self._announce(len(owned))
        log.info(
            "rebalance %d: publishing %d of %d shards, %d symbols (%d taken over)",
            self.rebalances,
            len(shards),
            total,
            len(owned),
            len(taken_over),
        )

    async def _continue(self, indices: set[int]) -> None:
        """Set each symbol's state to its last tick in Kafka, where one is found."""
        market = self.generator.market
        wanted = {str(market.symbols[i]): i for i in indices}
        keyed = self.generator.settings.format == "json"
        states = await self.reader.last_states(set(wanted), self.partitions, keyed_by_symbol=keyed)
        for symbol, state in states.items():
            market.resume(wanted[symbol], state)
        if wanted:
            log.info("continued %d of %d symbols from their last tick in Kafka", len(states), len(wanted))

    def _publish(self, owned: np.ndarray) -> None:
        self.generator.owned = owned

    def _announce(self, owned: int) -> None:
        """The roster headers every message carries from now on (the gateway's `producers` table)."""
        self.sender.headers = self._base_headers + roster_headers(owned, self.rebalances)
