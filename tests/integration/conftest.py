"""Fixtures of the integration tests that run `make run` (python -m harness.stack)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack import kafka_cli


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One checkout's run dir: every `make run` of a module reuses its Kafka, as on a laptop."""
    directory = tmp_path_factory.mktemp("run")
    yield directory
    kafka_cli("down", directory)
