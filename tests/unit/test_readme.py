"""The README documents every setting of every service (the settings classes are the truth)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings

from gateway.settings import GatewaySettings
from history.settings import HistorySettings
from producer.settings import ProducerSettings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _variables(cls: type[BaseSettings]) -> list[str]:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    return [prefix + name.upper() for name in cls.model_fields]


def test_every_setting_is_in_the_readme_table() -> None:
    missing = [
        v
        for cls in (ProducerSettings, GatewaySettings, HistorySettings)
        for v in _variables(cls)
        if f"`{v}`" not in README
    ]
    assert missing == []


def test_readme_gives_the_two_commands() -> None:
    assert "make run" in README
    assert "make test" in README
