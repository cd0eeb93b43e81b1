"""Where the gateway stands in each partition: one record per partition, with an explicit state.

As aiokafka keeps a ``TopicPartitionState`` per assigned partition, the source keeps one
``PartitionProgress`` per partition instead of parallel dicts. Reading runs ahead of applying
(gateway/ingest/inbox.py), so a partition has two offsets: ``position``, the next to read, and
``applied``, the next not yet in the tables. "Caught up" must mean the tables hold the replay,
not that it was fetched: a partition is REPLAYING until ``applied`` reaches ``target``, the end
offset seen at start; a partition that appears later holds only new data and starts LIVE.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class PartitionState(enum.Enum):
    REPLAYING = "replaying"  # what was in the partition at start is not all in the tables yet
    LIVE = "live"  # the tables hold at least what the partition held at start


@dataclass
class PartitionProgress:
    position: int  # next offset to read
    applied: int  # next offset not yet applied to the tables
    target: int | None = None  # end offset seen at start (None: joined after the start)
    end: int | None = None  # latest end offset seen
    state: PartitionState = PartitionState.REPLAYING

    def lag(self) -> int:
        """Messages behind the end of the partition (0 before any end offset is known)."""
        return 0 if self.end is None else max(self.end - self.position, 0)

    def settle(self) -> None:
        if self.state is PartitionState.REPLAYING and self.target is not None and self.applied >= self.target:
            self.state = PartitionState.LIVE


class Progress:
    """Every partition's progress, and whether the replay as a whole is in the tables."""

    def __init__(self) -> None:
        self.partitions: dict[int, PartitionProgress] = {}
        self.caught_up = False  # sticky: once the replay is in, later lag is live lag

    @property
    def started(self) -> bool:
        """True once the end offsets at start are known (partitions found later are new)."""
        return any(p.target is not None for p in self.partitions.values())

    def positions(self) -> dict[int, int]:
        return {partition: p.position for partition, p in self.partitions.items()}

    def seeked(self, partition: int, position: int) -> None:
        """The consumer will read ``partition`` from ``position`` (a new partition, or a resume)."""
        progress = self.partitions.get(partition)
        if progress is not None:
            progress.position = position
        elif self.started:
            self.partitions[partition] = PartitionProgress(position, position, state=PartitionState.LIVE)
        else:
            self.partitions[partition] = PartitionProgress(position, position)

    def read(self, partition: int, next_offset: int) -> None:
        self.partitions[partition].position = next_offset

    def applied(self, last_offsets: Mapping[int, int]) -> bool:
        """The last offset of each partition that went through the tables (applied or rejected);
        True when the replay just became complete."""
        for partition, offset in last_offsets.items():
            progress = self.partitions[partition]
            if offset >= progress.applied:
                progress.applied = offset + 1
        return self.check()

    def ends_seen(self, ends: Mapping[int, int]) -> bool:
        """End offsets from the broker, the first ones being the replay's targets; True when the
        replay just became complete."""
        first = not self.started
        for partition, end in ends.items():
            progress = self.partitions[partition]
            progress.end = end
            if first:
                progress.target = end
        return self.check()

    def check(self) -> bool:
        """Settle each partition's state; True when this call found the replay complete."""
        for progress in self.partitions.values():
            progress.settle()
        if self.caught_up or not self.started:
            return False
        if all(p.state is PartitionState.LIVE for p in self.partitions.values()):
            self.caught_up = True
            return True
        return False

    def lag(self) -> int:
        return sum(p.lag() for p in self.partitions.values())
