"""The compose files on the private engine: the README's commands, bounded, with logs on failure."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from tests.support.compose_engine import ROOT, Engine

README = ROOT / "README.md"
PROJECT = "tickerflow"
SINGLE = ("docker-compose.yml",)
CLUSTER = ("docker-compose.yml", "docker-compose.cluster.yml")
HOST_PORTS = {SINGLE: (8080, 8081, 9092), CLUSTER: (8080, 8081, 9092, 9094, 9096)}


def busy_ports(ports: tuple[int, ...]) -> list[int]:
    """The ports among ``ports`` that something on 127.0.0.1 already listens on."""
    busy = []
    for port in ports:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    return busy


def http_json(url: str, timeout: float = 3.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


class Stand:
    """``docker compose`` for one set of compose files, as the README spells the commands."""

    def __init__(self, engine: Engine, files: tuple[str, ...] = SINGLE) -> None:
        self.engine = engine
        self.files = files
        self.timings: dict[str, float] = {}
        self.ran: set[str] = set()  # the user-facing commands run, which the README must show as they are

    @property
    def prefix(self) -> list[str]:
        """``docker compose`` for the main file, ``docker compose -f a -f b`` for a merge."""
        if self.files == SINGLE:
            return ["docker", "compose"]
        return ["docker", "compose", *(arg for name in self.files for arg in ("-f", name))]

    def command(self, *args: str) -> str:
        return " ".join([*self.prefix, *args])

    def compose(
        self, *args: str, timeout: float = 120, check: bool = True, record: bool = True
    ) -> subprocess.CompletedProcess[str]:
        if record:
            self.ran.add(self.command(*args))
        started = time.monotonic()
        try:
            result = subprocess.run(
                [*self.prefix, *args],
                cwd=ROOT,
                env=self.engine.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(f"`{self.command(*args)}` took over {timeout:.0f}s\n{self.logs()}") from None
        self.timings[" ".join(args)] = time.monotonic() - started
        if check and result.returncode != 0:
            raise AssertionError(
                f"`{self.command(*args)}` exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}{result.stderr[-3000:]}\n{self.logs()}"
            )
        return result

    def logs(self) -> str:
        """The last 50 lines of every service, for failure messages."""
        try:
            result = subprocess.run(
                [*self.prefix, "logs", "--no-color", "--tail=50"],
                cwd=ROOT,
                env=self.engine.env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return "(docker compose logs took over 60 s)"
        return f"--- docker compose logs --tail=50 ---\n{result.stdout[-20000:]}{result.stderr[-2000:]}"

    def containers(self, service: str | None = None, all_states: bool = False) -> list[dict[str, Any]]:
        args = ["ps", "--format", "json", *(["--all"] if all_states else []), *([service] if service else [])]
        out = self.compose(*args, timeout=60, record=False).stdout.strip()
        if not out:
            return []
        if out.startswith("["):
            found: list[dict[str, Any]] = json.loads(out)
            return found
        return [json.loads(line) for line in out.splitlines()]

    def exec(self, service: str, *command: str, index: int = 1, timeout: float = 60) -> str:
        args = ("exec", "-T", f"--index={index}", service, *command)
        return self.compose(*args, timeout=timeout, record=False).stdout

    def leftovers(self) -> dict[str, list[str]]:
        """Containers, networks and volumes of the project that the engine still holds."""
        label = f"label=com.docker.compose.project={PROJECT}"
        found = {}
        for kind, args in {
            "containers": ["ps", "-a", "-q", "--filter", label],
            "networks": ["network", "ls", "-q", "--filter", label],
            "volumes": ["volume", "ls", "-q", "--filter", label],
        }.items():
            found[kind] = self.engine.docker(*args).stdout.split()
        return found

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "--timeout=10", timeout=120, check=False, record=False)

    def not_in_readme(self) -> set[str]:
        """The commands run that the README's Docker Compose section does not show word for word."""
        shown = {line.split("#")[0].strip() for line in README.read_text().splitlines()}
        return self.ran - shown


def until(
    check: Callable[[], Any], timeout: float, what: str, stand: Stand | None = None, interval: float = 0.5
) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` (and the logs)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, ValueError, AssertionError) as error:
            last = error
        else:
            if last:
                return last
        time.sleep(interval)
    logs = stand.logs() if stand else ""
    raise AssertionError(f"{what}: not within {timeout:.0f}s (last: {last!r})\n{logs}")
