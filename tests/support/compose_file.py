"""The compose files as data (alone or merged as compose merges them), and the settings services have."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from gateway.settings import GatewaySettings
from history.settings import HistorySettings
from producer.settings import ProducerSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
CLUSTER = ROOT / "docker-compose.cluster.yml"
SETTINGS: dict[str, type[BaseSettings]] = {
    "producer": ProducerSettings,
    "gateway": GatewaySettings,
    "history": HistorySettings,
}
REPLACED = {"command", "entrypoint", "test"}  # compose replaces these sequences instead of appending


def _mount_path(volume: str) -> str:
    return volume.split(":")[1] if ":" in volume else volume


# unique resources: one entry per key, the override's wins
UNIQUE: dict[str, Callable[[str], str]] = {"volumes": _mount_path, "ports": str}


def load(path: Path = COMPOSE) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def services(document: dict[str, Any] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = (load() if document is None else document)["services"]
    return found


def merge(base: Any, override: Any, key: str = "") -> Any:
    """``override`` merged onto ``base`` by the Compose merge rules, for the forms these files use.

    Mappings merge by key, recursively (``environment`` and ``depends_on`` must be maps, not lists).
    Sequences are appended, except ``command``, ``entrypoint`` and ``healthcheck.test``, which the
    override replaces, and the unique resources: a service's ``volumes`` (short syntax) merge by
    mount path, its ``ports`` keep one entry per distinct binding. Scalars: the override wins.
    """
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = merge(base[name], value, name) if name in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list) and key not in REPLACED:
        if key in UNIQUE:
            entries = {UNIQUE[key](entry): entry for entry in [*base, *override]}
            return list(entries.values())
        return [*base, *override]
    return override


def cluster() -> dict[str, Any]:
    """docker-compose.yml with docker-compose.cluster.yml merged onto it: the 3-broker system."""
    merged: dict[str, Any] = merge(load(), load(CLUSTER))
    return merged


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _report(result: subprocess.CompletedProcess[str]) -> str:
    return "" if result.returncode == 0 else (result.stdout + result.stderr).strip() or "failed"


def schema_errors(path: Path) -> str:
    """What check-jsonschema finds wrong in ``path`` by the Compose specification schema: "" if nothing."""
    return _report(
        run(str(ROOT / ".venv/bin/check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path))
    )


def dclint_problems(path: Path) -> str:
    """dclint's errors and warnings for ``path``: "" if there are none."""
    result = run(str(ROOT / "tools/node_modules/.bin/dclint"), str(path))
    return _report(result) or result.stdout.strip()


def listeners(value: str) -> dict[str, str]:
    """``KAFKA_*LISTENERS`` as {listener name: host:port}."""
    return dict(item.split("://") for item in value.split(","))


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


def unknown_settings(all_services: dict[str, Any], name: str) -> set[str]:
    """The environment variables set for ``name`` that its settings class does not have."""
    return set(all_services[name].get("environment", {})) - setting_names(SETTINGS[name])


def unpinned_images(all_services: dict[str, Any]) -> list[str]:
    images = [service["image"] for service in all_services.values() if "image" in service]
    return [image for image in images if not re.match(r".+:\d+\.\d+\.\d+", image)]


def unhealthy_dependencies(all_services: dict[str, Any]) -> list[str]:
    """``service -> dependency`` for each depends_on that does not wait for a healthcheck."""
    found = []
    for name, service in all_services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            target = all_services.get(dependency, {})
            has_check = "healthcheck" in target or dockerfile_has_healthcheck(target)
            if rule.get("condition") != "service_healthy" or not has_check:
                found.append(f"{name} -> {dependency}")
    return found
