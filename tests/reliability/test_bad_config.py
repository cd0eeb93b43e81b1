"""Every setting of every service, given a bad value: one clear line naming it, exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.services import ROOT

# One bad value per setting; a setting missing here fails test_every_setting_has_a_bad_value.
BAD: dict[str, str] = {
    "PRODUCER_BOOTSTRAP_SERVERS": "nohostport",
    "PRODUCER_TOPIC": "",
    "PRODUCER_PARTITIONS": "0",
    "PRODUCER_REPLICATION": "9",
    "PRODUCER_FORMAT": "xml",
    "PRODUCER_BATCH_SIZE": "0",
    "PRODUCER_INTERVAL_MS": "-5",
    "PRODUCER_RATE": "-1",
    "PRODUCER_SYMBOLS": "0",
    "PRODUCER_SYMBOL_LIST": "ZZZZZZ",
    "PRODUCER_SHARD": "5/2",
    "PRODUCER_SPLIT": "maybe",
    "PRODUCER_SHARDS": "0",
    "PRODUCER_SESSION_TIMEOUT_MS": "10",
    "PRODUCER_SEED": "abc",
    "PRODUCER_PRODUCER_ID": "",
    "PRODUCER_LINGER_MS": "-1",
    "PRODUCER_MAX_BATCH_BYTES": "10",
    "PRODUCER_COMPRESSION": "snappy",
    "PRODUCER_STARTUP_TIMEOUT_S": "0",
    "PRODUCER_SEND_TIMEOUT_S": "-1",
    "PRODUCER_BUFFER_TICKS": "0",
    "PRODUCER_METRICS_PORT": "70000",
    "PRODUCER_LOG_LEVEL": "LOUD",
    "GATEWAY_BOOTSTRAP_SERVERS": "a:b:c",
    "GATEWAY_TOPIC": "",
    "GATEWAY_START": "yesterday",
    "GATEWAY_REPLAY_SECONDS": "-1",
    "GATEWAY_MAX_RECORDS": "0",
    "GATEWAY_INGEST_WORKERS": "17",
    "GATEWAY_POLL_TIMEOUT_MS": "-1",
    "GATEWAY_FETCH_MAX_WAIT_MS": "999999",
    "GATEWAY_DLQ_TOPIC": "x" * 300,
    "GATEWAY_DLQ_REPLICATION": "0",
    "GATEWAY_RECONNECT_AFTER_S": "0",
    "GATEWAY_ENGINE_THREADS": "-1",
    "GATEWAY_TICKS_LIMIT": "0",
    "GATEWAY_TICKS_PER_UPDATE": "0",
    "GATEWAY_BARS_LIMIT": "0",
    "GATEWAY_BARS_INTERVAL_MS": "5000",
    "GATEWAY_GAP_GRACE_MS": "-1",
    "GATEWAY_STALE_AFTER_S": "0",
    "GATEWAY_STATS_INTERVAL_MS": "1",
    "GATEWAY_PRODUCER_STALE_S": "0",
    "GATEWAY_HOST": "",
    "GATEWAY_PORT": "0",
    "GATEWAY_ALLOWED_ORIGINS": "",
    "GATEWAY_TOKEN": "fifteen-chars-x",  # 8+ passes the shared secret check; the gateway wants 16+
    "GATEWAY_AUTH_MAX_FAILURES": "0",
    "GATEWAY_AUTH_WINDOW_S": "0",
    "GATEWAY_AUTH_BACKOFF_MAX_S": "0.5",
    "GATEWAY_METRICS_TOKEN": "short",
    "GATEWAY_MAX_FRAME_BYTES": "10",
    "GATEWAY_MAX_CONNECTIONS": "0",
    "GATEWAY_MAX_PENDING_BYTES": "1",
    "GATEWAY_MAX_BATCH_BYTES": "1000",
    "GATEWAY_SHARE_VIEWS": "sometimes",
    "GATEWAY_CLIENT_DIR": "/no/such/folder",
    "GATEWAY_LOG_LEVEL": "LOUD",
    "GATEWAY_HISTORY_URL": "http://history:8090",  # a WebSocket URL, ws:// or wss://
    "HISTORY_BOOTSTRAP_SERVERS": "kafka",
    "HISTORY_TOPIC": "bad topic",
    "HISTORY_GROUP_ID": "",
    "HISTORY_MAX_RECORDS": "0",
    "HISTORY_BATCH_ROWS": "0",
    "HISTORY_BATCH_WAIT_MS": "-1",
    "HISTORY_POLL_TIMEOUT_MS": "20000",
    "HISTORY_SESSION_TIMEOUT_MS": "100",
    "HISTORY_RECONNECT_AFTER_S": "0",
    "HISTORY_DB_PATH": "",
    "HISTORY_RETENTION_HOURS": "0",
    "HISTORY_PRUNE_INTERVAL_S": "-5",
    "HISTORY_MEMORY_LIMIT_MB": "1",
    "HISTORY_THREADS": "0",
    "HISTORY_NICE": "20",
    "HISTORY_HOST": "",
    "HISTORY_PORT": "70000",
    "HISTORY_ALLOWED_ORIGINS": "",
    "HISTORY_TOKEN": "fifteen-chars-x",
    "HISTORY_METRICS_TOKEN": "short",
    "HISTORY_MAX_FRAME_BYTES": "10",
    "HISTORY_MAX_CONNECTIONS": "0",
    "HISTORY_MAX_PENDING_BYTES": "1",
    "HISTORY_MAX_VIEW_ROWS": "0",
    "HISTORY_LOG_LEVEL": "LOUD",
}


def _settings(prefix: str) -> list[str]:
    from pydantic_settings import BaseSettings

    from gateway.settings import GatewaySettings
    from history.settings import HistorySettings
    from producer.settings import ProducerSettings

    classes: dict[str, type[BaseSettings]] = {
        "PRODUCER_": ProducerSettings,
        "GATEWAY_": GatewaySettings,
        "HISTORY_": HistorySettings,
    }
    cls = classes[prefix]
    return [prefix + name.upper() for name in cls.model_fields]


def test_every_setting_has_a_bad_value() -> None:
    assert set(_settings("PRODUCER_") + _settings("GATEWAY_") + _settings("HISTORY_")) == set(BAD)


def _run(variable: str, value: str) -> subprocess.CompletedProcess[str]:
    module = variable.split("_", 1)[0].lower()
    env = {"PATH": "/usr/bin:/bin", "PRODUCER_STARTUP_TIMEOUT_S": "1", variable: value}
    return subprocess.run(
        [sys.executable, "-m", module],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("variable", sorted(BAD))
def test_bad_value_exits_2_naming_the_setting(variable: str) -> None:
    result = _run(variable, BAD[variable])
    assert result.returncode == 2, result.stderr
    assert variable in result.stderr or variable.split("_", 1)[1] in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "variable", ["GATEWAY_TOKEN", "GATEWAY_METRICS_TOKEN", "HISTORY_TOKEN", "HISTORY_METRICS_TOKEN"]
)
def test_a_refused_secret_is_not_printed(variable: str) -> None:
    result = _run(
        variable, "fifteen-chars-x" if variable.endswith("_TOKEN") and "METRICS" not in variable else "short"
    )
    assert result.returncode == 2
    assert "fifteen-chars-x" not in result.stderr and "short'" not in result.stderr


def test_a_gateway_token_of_16_characters_is_long_enough() -> None:
    from common.settings import MIN_TOKEN_CHARS
    from gateway.settings import GatewaySettings

    assert GatewaySettings(token="x" * MIN_TOKEN_CHARS).token == "x" * 16
