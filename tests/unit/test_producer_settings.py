"""Producer settings: defaults that work with `make run`, env parsing, and errors naming the variable."""

from __future__ import annotations

import os

import pytest

from common.settings import ConfigError, load
from producer.settings import ProducerSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PRODUCER_"):
            monkeypatch.delenv(name)


def test_defaults_match_the_design_contract() -> None:
    s = ProducerSettings()
    assert s.bootstrap_servers == "127.0.0.1:9092"
    assert (s.topic, s.partitions, s.replication) == ("ticks", 6, 1)
    assert (s.format, s.interval_ms, s.rate, s.symbols) == ("json", 250, 0, 50)
    assert (s.compression, s.metrics_port) == ("lz4", 0)


def test_default_producer_id_is_hostname_dash_pid() -> None:
    assert ProducerSettings().producer_id == f"{os.uname().nodename}-{os.getpid()}"


def test_values_come_from_prefixed_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODUCER_FORMAT", "arrow")
    monkeypatch.setenv("PRODUCER_RATE", "100000")
    monkeypatch.setenv("PRODUCER_BOOTSTRAP_SERVERS", "a:1, b:2")
    s = load(ProducerSettings)
    assert (s.format, s.rate, s.bootstrap_servers) == ("arrow", 100_000, "a:1,b:2")


def test_settings_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        ProducerSettings().rate = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PRODUCER_FORMAT", "xml"),
        ("PRODUCER_INTERVAL_MS", "-5"),
        ("PRODUCER_SYMBOLS", "0"),
        ("PRODUCER_BOOTSTRAP_SERVERS", "no-port"),
        ("PRODUCER_COMPRESSION", "snappy"),
        ("PRODUCER_SHARD", "2/2"),
        ("PRODUCER_BUFFER_TICKS", "0"),
    ],
)
def test_a_bad_value_is_reported_by_its_variable_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load(ProducerSettings)
    assert str(error.value).startswith(f"{variable}: ")
    assert repr(value) in str(error.value)


@pytest.mark.parametrize(("shard", "expected"), [("", (0, 1)), ("0/3", (0, 3)), ("2/3", (2, 3))])
def test_shard_is_index_over_count(shard: str, expected: tuple[int, int]) -> None:
    assert ProducerSettings(shard=shard).shard_of() == expected


def test_symbol_list_is_trimmed_and_upper_cased() -> None:
    assert ProducerSettings(symbol_list=" abc, DEF ,,").owned_symbols() == ["ABC", "DEF"]
    assert ProducerSettings().owned_symbols() == []
