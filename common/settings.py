"""Loading a service's frozen settings from the environment, with errors a human can act on.

Both services share this so that ``--help`` and a bad value behave the same everywhere:
a one-line message naming the variable and exit code 2, never a traceback.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Annotated, Final, Literal, TypeVar

from pydantic import AfterValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

EXIT_BAD_CONFIG: Final = 2

_HOST_PORT: Final = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})$")


def _check_bootstrap(value: str) -> str:
    """Reject what aiokafka would only fail on later, deep inside a retry loop."""
    hosts = [part.strip() for part in value.split(",")]
    for host in hosts:
        match = _HOST_PORT.match(host)
        if not match or not 0 < int(match.group(2)) < 65536:
            raise ValueError(f"{host!r} is not host:port (expected e.g. 127.0.0.1:9092,other:9092)")
    return ",".join(hosts)


BootstrapServers = Annotated[str, AfterValidator(_check_bootstrap)]

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


def _check_topic(value: str) -> str:
    if value and not _TOPIC.match(value):
        raise ValueError("a Kafka topic is 1-249 characters of letters, digits, '.', '_' and '-'")
    return value


def _check_secret(value: str) -> str:
    if value and len(value) < 8:
        raise ValueError("a secret must be at least 8 characters (or empty to disable)")
    return value


MIN_TOKEN_CHARS: Final = 16


def _check_token(value: str) -> str:
    # Guessable by brute force through the throttle if short; the URL fragment and the page hold it.
    if value and len(value) < MIN_TOKEN_CHARS:
        raise ValueError(f"must be at least {MIN_TOKEN_CHARS} characters (or empty to disable auth)")
    return value


TopicName = Annotated[str, AfterValidator(_check_topic)]
Secret = Annotated[str, AfterValidator(_check_secret)]
# The WebSocket secret of the gateway and history (the same value where the gateway proxies history).
AuthToken = Annotated[str, AfterValidator(_check_token)]


def settings_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, frozen=True, extra="ignore", case_sensitive=False)


class KafkaServiceSettings(BaseSettings):
    """The fields every Kafka service declares; each service adds its own, under its own env prefix."""

    bootstrap_servers: BootstrapServers = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    topic: TopicName = Field(
        "ticks", min_length=1, description="the ticks topic (the producer creates it if missing)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")


S = TypeVar("S", bound=BaseSettings)


class ConfigError(Exception):
    """A setting has a bad value; the message names the environment variable."""


def load(cls: type[S]) -> S:
    """Build settings from the environment, raising ConfigError with one line per bad setting."""
    try:
        return cls()
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        raise ConfigError("; ".join(_describe(prefix, error) for error in exc.errors())) from None


def load_or_exit(cls: type[S], argv: Sequence[str], program: str) -> S:
    """The command-line entry: ``--help`` lists every setting, a bad value exits 2."""
    if any(arg in ("-h", "--help") for arg in argv):
        print(help_text(cls, program))
        raise SystemExit(0)
    if argv:
        print(
            f"{program}: takes no arguments, configure it with environment variables (see --help)",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_BAD_CONFIG)
    try:
        return load(cls)
    except ConfigError as exc:
        print(f"{program}: bad configuration: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_CONFIG) from None


def help_text(cls: type[BaseSettings], program: str) -> str:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    lines = [f"usage: python -m {program}   (configured by environment variables)", ""]
    for name, field in cls.model_fields.items():
        default = field.get_default(call_default_factory=False)
        shown = "(computed)" if field.default_factory is not None else repr(default)
        lines.append(f"  {prefix}{name.upper():<28} default {shown}")
        if field.description:
            lines.append(f"      {field.description}")
    return "\n".join(lines)


def _describe(prefix: str, error: object) -> str:
    assert isinstance(error, dict)
    location = error.get("loc") or ("?",)
    variable = f"{prefix}{location[0]}".upper()
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if isinstance(value, dict) else f" (got {str(value)[:60]!r})"
    if "TOKEN" in variable:  # a secret, even a bad one, stays out of logs
        shown = f" (got {len(str(value))} characters)"
    return f"{variable}: {message}{shown}"
