"""One KRaft node (broker + controller in one JVM) on loopback ports."""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import logtail, pidfile
from harness.detach import DetachedProcess
from harness.errors import HarnessError
from harness.ports import port_open
from harness.process import ManagedProcess, wait_for

log = logging.getLogger(__name__)

KAFKA_DIR = Path(__file__).resolve().parent.parent / "kafka"
LIBS = KAFKA_DIR / ".libs"
LOG4J = KAFKA_DIR / "log4j2.properties"
HEAP = "-Xmx512m"


def java() -> str:
    path = shutil.which("java")
    if path is None:
        raise HarnessError("java not found: install Java 17+ (apt-get install openjdk-17-jre-headless)")
    if not any(LIBS.glob("kafka_2.13-*.jar")):
        raise HarnessError(
            "Kafka jars missing in kafka/.libs: run `make setup` (or bash kafka/fetch-jars.sh)"
        )
    return path


def _reason(output: str) -> str:
    """The telling line of a JVM tool's output: the first exception or error, not the stack frames."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("at ", "... ", "SLF4J"))]
    for line in lines:
        if "Exception" in line or "Error" in line or line.lower().startswith("error"):
            return line
    return lines[-1] if lines else "no output"


@dataclass(frozen=True)
class NodeSpec:
    node_id: int
    port: int
    controller_port: int


class KafkaNode:
    """A node's lifecycle: format once, then start / stop / kill -9 / restart on the same ports."""

    def __init__(
        self,
        spec: NodeSpec,
        voters: str,
        root: Path,
        cluster_id: str,
        overrides: dict[str, str],
        detached: bool = False,
    ) -> None:
        self.spec = spec
        self.dir = root / f"node-{spec.node_id}"
        self.cluster_id = cluster_id
        self._properties = self.dir / "server.properties"
        self._voters = voters
        self._overrides = overrides
        self._process: ManagedProcess | DetachedProcess | None = None
        self._detached = detached  # outlives this Python process (make kafka-up, make run)

    @property
    def node_id(self) -> int:
        return self.spec.node_id

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.spec.port}"

    @property
    def port(self) -> int:
        return self.spec.port

    @property
    def controller_port(self) -> int:
        return self.spec.controller_port

    @property
    def data_dir(self) -> Path:
        """The node's directory: server.properties, data/ (log.dirs), logs/server.log, stdout.log, pid."""
        return self.dir

    @property
    def server_log(self) -> Path:
        return self.dir / "logs" / "server.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    @property
    def is_running(self) -> bool:
        return self.running

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process else None

    def format(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._properties.write_text(self._render())
        if self._formatted_for_us():
            return  # the tool would change nothing, and its JVM costs 3-8 s of `make kafka-up`
        command = [
            java(),
            "-cp",
            f"{LIBS}/*",
            *self._jvm_logging(),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            self.cluster_id,
            "-c",
            str(self._properties),
            "--ignore-formatted",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise HarnessError(
                f"kafka storage format failed for node {self.node_id}: "
                f"{_reason(result.stderr + result.stdout)}"
            )

    def _formatted_for_us(self) -> bool:
        try:
            lines = (self.dir / "data" / "meta.properties").read_text().splitlines()
        except FileNotFoundError:
            return False
        meta = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
        return meta.get("node.id") == str(self.node_id) and meta.get("cluster.id") == self.cluster_id

    def start(self) -> None:
        if self.running:
            return
        for port in (self.spec.port, self.spec.controller_port):
            if port_open("127.0.0.1", port):
                raise HarnessError(f"port {port} is already in use: cannot start node {self.node_id}")
        command = [
            java(),
            HEAP,
            "-Xms128m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            *self._jvm_logging(),
            "-cp",
            f"{LIBS}/*",
            "kafka.Kafka",
            str(self._properties),
        ]
        if self._detached:
            self._process = DetachedProcess(command, self.dir / "stdout.log", self.dir / "pid").start()
            return
        self._process = ManagedProcess(command, self.dir / "stdout.log").start()
        pidfile.write(
            self.dir / "pid", pidfile.identify(self._process.pid) or pidfile.ProcessId(self._process.pid, -1)
        )

    def wait_listening(self, timeout: float) -> None:
        started = time.monotonic()
        if not wait_for(lambda: port_open("127.0.0.1", self.spec.port) or not self.running, timeout, 0.1):
            raise HarnessError(self._failure(f"did not listen within {timeout:.0f}s"))
        if not self.running:
            raise HarnessError(self._failure("exited during startup"))
        log.debug("node %s listening after %.1fs", self.node_id, time.monotonic() - started)

    def stop(self, timeout: float = 20.0) -> None:
        """Graceful shutdown (SIGTERM: controlled shutdown hands leadership over first)."""
        if self._process is not None:
            self._process.stop(timeout)

    def terminate(self) -> None:
        """Send SIGTERM without waiting."""
        if self._process is not None:
            self._process.signal(signal.SIGTERM)

    def kill(self) -> None:
        """kill -9: no controlled shutdown, as in a crash."""
        if self._process is not None:
            self._process.kill()

    def restart(self, timeout: float = 60.0) -> None:
        """Stop gracefully if running, start again on the same ports and data, wait until it listens.

        Use :meth:`KafkaCluster.restart` to also wait until the node answers metadata as a broker.
        """
        self.stop()
        self.start()
        self.wait_listening(timeout)

    def quorum_state(self) -> dict[str, Any]:
        """This node's view of the KRaft quorum (leaderId, leaderEpoch, ...); {} if not written yet."""
        try:
            state: dict[str, Any] = json.loads(
                (self.dir / "data" / "__cluster_metadata-0" / "quorum-state").read_text()
            )
        except (FileNotFoundError, ValueError):
            return {}
        return state

    def tail(self, lines: int = 15) -> str:
        return self.server_log_tail(lines)

    def server_log_tail(self, lines: int = 15) -> str:
        """server.log from its first ERROR on (or its end), without stack frames, plus stdout's end."""
        try:
            text = self.server_log.read_text(errors="replace")
        except FileNotFoundError:
            text = ""
        stdout = self._process.tail(lines) if self._process else ""
        return logtail.excerpt(text, lines) + ("\n" + stdout if stdout.strip() else "")

    def failure_reason(self) -> str | None:
        """The first ERROR of server.log with its root cause, if any."""
        try:
            return logtail.first_error(self.server_log.read_text(errors="replace"))
        except FileNotFoundError:
            return None

    def _failure(self, what: str) -> str:
        reason = self.failure_reason()
        return (
            f"kafka node {self.node_id} on port {self.spec.port} {what}"
            + (f": {reason}" if reason else "")
            + f"; log tail:\n{self.server_log_tail()}"
        )

    def _jvm_logging(self) -> list[str]:
        return [f"-Dlog4j2.configurationFile={LOG4J}", f"-Dkafka.logs.dir={self.dir / 'logs'}"]

    def _render(self) -> str:
        spec = self.spec
        props = {
            "process.roles": "broker,controller",
            "node.id": str(spec.node_id),
            "controller.quorum.voters": self._voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{spec.port},CONTROLLER://127.0.0.1:{spec.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{spec.port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.dir / "data"),
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.partitions": "6",
            "offsets.topic.num.partitions": "3",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "unclean.leader.election.enable": "false",
            "broker.heartbeat.interval.ms": "500",
            "broker.session.timeout.ms": "3000",
            "controller.quorum.fetch.timeout.ms": "2000",
            "controller.quorum.election.timeout.ms": "1000",
            **self._overrides,
        }
        return "".join(f"{key}={value}\n" for key, value in props.items())
