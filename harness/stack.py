"""`make run`: local Kafka (reused if already up), N producers, the gateway and history, until Ctrl-C.

It says "live" only once the gateway's and history's /readyz are true and Kafka has acknowledged
ticks of every producer; until then it says what it waits for. History keeps its DuckDB file in
<run-dir>/history/ (kept between runs, like Kafka's data) and the gateway proxies it at /history.
A service that exits is named, with its last log lines, and the rest are stopped: exit status 1.
Ctrl-C (or SIGTERM) is the clean stop, status 0. Kafka runs detached and stays up afterwards (its
data survives); `make kafka-down` stops it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from harness import supervise
from harness.errors import HarnessError
from harness.liveness import Probe
from harness.local import broker_pid, quiet_kafka_client_logs, up
from harness.ports import can_bind, free_ports, port_open
from harness.supervise import Services

ROOT = Path(__file__).resolve().parent.parent
PROBE_EVERY_S = 0.5  # while starting
WATCH_EVERY_S = 2.0  # once live: say so when it stops being live, and when it is back


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness.stack", description=__doc__)
    parser.add_argument("--producers", type=int, default=1)
    parser.add_argument("--kafka-port", type=int, default=9092)
    parser.add_argument("--gateway-port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8080")))
    parser.add_argument("--history-port", type=int, default=int(os.environ.get("HISTORY_PORT", "8090")))
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".run", help="logs/ and kafka/ (default .run)")
    parser.add_argument("--live-timeout", type=float, default=90.0, help="seconds to become live, or fail")
    return parser.parse_args(argv)


def _preflight(args: argparse.Namespace) -> str | None:
    """Ports checked before anything starts: one line naming the port and how to pick another."""
    ours = (args.gateway_port, args.history_port)
    for service, port in zip(("gateway", "history"), ours, strict=True):
        if not can_bind(os.environ.get(f"{service.upper()}_HOST", "0.0.0.0"), port):
            other = port + 10 if port + 10 not in ours else port + 20  # 8080 + 10 is history's 8090
            return (
                f"port {port} is already in use, so the {service} cannot listen on it: stop what uses "
                f"it, or pick another port: make run {service.upper()}_PORT={other}"
            )
    if broker_pid(args.run_dir / "kafka") is None:  # our broker is not up: its two ports must be free
        for port in (args.kafka_port, args.kafka_port + 1):
            if port_open("127.0.0.1", port):
                return (
                    f"port {port} is already in use, so Kafka (port {args.kafka_port}, controller "
                    f"{args.kafka_port + 1}) cannot start: "
                    f"pick another: make run KAFKA_PORT={args.kafka_port + 100}"
                )
    return None


class StopRequest:
    """Ctrl-C or SIGTERM: the one clean way out."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGINT, self._set)
        signal.signal(signal.SIGTERM, self._set)

    def _set(self, signum: int, frame: object) -> None:
        self.requested = True


def _start_services(args: argparse.Namespace, bootstrap: str) -> tuple[Services, Probe]:
    logs = args.run_dir / "logs"
    ports = ("GATEWAY_PORT", "HISTORY_PORT", "PRODUCER_METRICS_PORT")
    env = {k: v for k, v in os.environ.items() if k not in ports}
    services = Services()
    gateway_env = {
        **env,
        "GATEWAY_BOOTSTRAP_SERVERS": bootstrap,
        "GATEWAY_PORT": str(args.gateway_port),
        "GATEWAY_HISTORY_URL": f"ws://127.0.0.1:{args.history_port}/history",
    }
    services.add(supervise.start("gateway", "gateway", logs, gateway_env))
    history_env = {
        "HISTORY_DB_PATH": str(args.run_dir / "history" / "history.duckdb"),
        **env,  # an exported HISTORY_DB_PATH wins
        "HISTORY_BOOTSTRAP_SERVERS": bootstrap,
        "HISTORY_PORT": str(args.history_port),
    }
    services.add(supervise.start("history", "history", logs, history_env))
    metrics_ports = free_ports(args.producers)
    for i, port in enumerate(metrics_ports):
        producer_env = {
            **env,
            "PRODUCER_BOOTSTRAP_SERVERS": bootstrap,
            "PRODUCER_PRODUCER_ID": f"{os.uname().nodename}-producer-{i}",
            "PRODUCER_METRICS_PORT": str(port),
        }
        services.add(supervise.start(f"producer-{i}", "producer", logs, producer_env))
    producers = {f"producer-{i}": port for i, port in enumerate(metrics_ports)}
    return services, Probe(args.gateway_port, bootstrap, producers, args.history_port)


def _supervise(services: Services, probe: Probe, args: argparse.Namespace, stop: StopRequest) -> int:
    """Follow the logs until Ctrl-C; 1 if a service exits or the stack is not live in time."""
    deadline = time.monotonic() + args.live_timeout
    live, shown, next_probe = False, "", 0.0
    while not stop.requested:
        services.follow()
        dead = services.dead()
        if dead is not None:
            services.report_death(dead)
            return 1
        if time.monotonic() >= next_probe:
            next_probe = time.monotonic() + (WATCH_EVERY_S if live else PROBE_EVERY_S)
            waits = probe.serving() if live else probe.waiting_for()
            text = "; ".join(waits)
            if not live and not waits:
                live = True
                print(
                    f"\nTickerflow is live: open http://localhost:{args.gateway_port}  (history on :"
                    f"{args.history_port}, also at /history)  "
                    f"({args.producers} producer(s); logs in {args.run_dir / 'logs'}; Ctrl-C stops)\n",
                    flush=True,
                )
            elif not live and time.monotonic() >= deadline:
                print(
                    f"\nerror: not live after {args.live_timeout:.0f}s: still waiting for {text}",
                    file=sys.stderr,
                )
                return 1
            elif text != shown:
                prefix = "not live any more: waiting for" if live else "waiting for"
                print(f"{prefix} {text}" if waits else "live again", flush=True)
            shown = text
        time.sleep(0.3)
    return 0


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    quiet_kafka_client_logs()
    problem = _preflight(args)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        up(args.kafka_port, args.run_dir / "kafka")
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    stop = StopRequest()
    services, probe = _start_services(args, f"127.0.0.1:{args.kafka_port}")
    try:
        return _supervise(services, probe, args, stop)
    finally:
        services.stop_all()
        print(
            "stopped producers, gateway and history; Kafka keeps running (make kafka-down stops it)",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
