"""What docker compose would run, run for real without Docker: same commands, same environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.ports import free_port
from harness.process import ManagedProcess, http_ok, wait_for
from harness.psp import connect
from tests.support.compose_file import ROOT, services
from tests.support.psp import eventually, rows

pytestmark = pytest.mark.integration


def _environment(service: dict[str, Any], bootstrap: str, topic: str) -> dict[str, str]:
    """The service's compose environment, with container addresses mapped to this machine."""
    env = {k: str(v) for k, v in service.get("environment", {}).items()}
    for key, value in env.items():
        if key.endswith("BOOTSTRAP_SERVERS"):
            env[key] = bootstrap
        if key.endswith("_TOPIC"):
            env[key] = topic
        if key.endswith("_DLQ_TOPIC"):
            env[key] = f"{topic}.dlq"
        if key.endswith("_PORT"):
            env[key] = str(free_port())  # each container has its own network namespace; we do not
        if value.startswith("${"):
            env[key] = ""
    return env


def _start(name: str, module: str, env: dict[str, str], log_dir: Path) -> ManagedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PRODUCER_", "GATEWAY_"))}
    return ManagedProcess(
        [sys.executable, "-m", module], log_dir / f"{name}.log", {**base, **env}, ROOT
    ).start()


async def test_compose_file_describes_a_working_system_with_three_producers(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    compose = services()
    gateway_env = _environment(compose["gateway"], kafka_bootstrap, topic)
    gateway = _start("gateway", "gateway", gateway_env, tmp_path)
    producers = [
        _start(
            f"producer-{i}", "producer", _environment(compose["producer"], kafka_bootstrap, topic), tmp_path
        )
        for i in range(3)
    ]  # --scale producer=3
    port = gateway_env["GATEWAY_PORT"]
    try:
        assert wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/readyz"), 60), gateway.tail()
        async with connect(f"ws://127.0.0.1:{port}/websocket") as client:

            async def complete() -> bool:
                return len(await rows(client, "producers")) == 3 and len(await rows(client, "quotes")) == 50

            await eventually(complete, timeout=20)
            ids = {p["producer_id"] for p in await rows(client, "producers")}
        assert len(ids) == 3
    finally:
        for process in [*producers, gateway]:
            process.stop()


def test_dockerfile_install_steps_build_a_working_service(tmp_path: Path) -> None:
    """The Dockerfiles' RUN steps, replayed: venv from the lock, project without deps, then start."""
    app = tmp_path / "app"
    app.mkdir()
    for item in ("requirements.lock", "pyproject.toml", "common", "producer", "gateway", "harness"):
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, app / item)
    venv = tmp_path / "venv"
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin/pip"), "install", "-q", "-r", "requirements.lock"],
        [str(venv / "bin/pip"), "install", "-q", "--no-deps", "."],
    ]
    for step in steps:
        result = subprocess.run(step, cwd=app, capture_output=True, text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
    elsewhere = tmp_path / "run"
    elsewhere.mkdir()  # run outside the source tree: the installed package must be complete
    for module in ("producer", "gateway"):
        result = subprocess.run(
            [str(venv / "bin/python"), "-m", module, "--help"],
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert f"{module.upper()}_BOOTSTRAP_SERVERS" in result.stdout
    port = free_port()
    gateway = ManagedProcess(
        [str(venv / "bin/python"), "-m", "gateway"],
        tmp_path / "gw.log",
        {
            "GATEWAY_PORT": str(port),
            "GATEWAY_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "GATEWAY_CLIENT_DIR": str(ROOT / "client"),
            "PATH": os.environ["PATH"],
        },
        elsewhere,
    ).start()
    try:
        assert wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 30), gateway.tail()
    finally:
        gateway.stop()
