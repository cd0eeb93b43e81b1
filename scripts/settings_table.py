"""Print the README's settings tables from the settings classes (the single source of truth)."""

from __future__ import annotations

from pydantic_settings import BaseSettings

from gateway.settings import GatewaySettings
from producer.settings import ProducerSettings


def table(cls: type[BaseSettings]) -> str:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in cls.model_fields.items():
        default = "(computed)" if field.default_factory is not None else f"`{field.default!r}`"
        rows.append(f"| `{prefix}{name.upper()}` | {default} | {field.description or ''} |")
    return "\n".join(rows)


if __name__ == "__main__":
    for cls in (ProducerSettings, GatewaySettings):
        print(f"### {cls.__name__}\n\n{table(cls)}\n")
