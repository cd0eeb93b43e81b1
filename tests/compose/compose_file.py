"""docker-compose.yml as data, and the settings each service really has."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from gateway.settings import GatewaySettings
from producer.settings import ProducerSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SETTINGS: dict[str, type[BaseSettings]] = {"producer": ProducerSettings, "gateway": GatewaySettings}


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def services() -> dict[str, Any]:
    found: dict[str, Any] = load()["services"]
    return found


def setting_names(cls: type[BaseSettings]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    return {prefix + name.upper() for name in cls.model_fields}


def client_variables() -> set[str]:
    template = (ROOT / "client" / "nginx" / "default.conf.template").read_text()
    return set(re.findall(r"\$\{?(CLIENT_[A-Z_]+)", template))


def dockerfile_has_healthcheck(service: dict[str, Any]) -> bool:
    build = service.get("build")
    if not build:
        return False
    dockerfile = ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
    return "HEALTHCHECK" in dockerfile.read_text()
