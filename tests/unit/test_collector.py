"""The collector tuning: fewer young collections, start-up objects frozen, and cycles still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from common import collector


@pytest.fixture
def tuned() -> Iterator[None]:
    before = gc.get_threshold()
    collector.tune()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_young_collections_run_every_gen0_threshold_allocations(tuned: None) -> None:
    assert gc.get_threshold()[0] == collector.GEN0_THRESHOLD == 10_000
    assert gc.isenabled()


def test_what_exists_at_start_up_is_frozen_out_of_collections(tuned: None) -> None:
    assert gc.get_freeze_count() > 1000  # the interpreter's and the imported modules' objects


def test_cycles_made_afterwards_are_still_collected_without_being_asked(tuned: None) -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    assert gone() is not None  # a cycle: reference counting alone never frees it
    for _ in range(3):  # enough allocations for automatic young collections to run
        keep = [Node() for _ in range(collector.GEN0_THRESHOLD)]
        del keep
    assert gone() is None
