"""A process that outlives whoever started it (``make kafka-up``, ``make run``), and is nobody's child.

A plain ``Popen`` child that is stopped by someone else stays a zombie until its parent reaps
it, and a zombie answers ``kill(pid, 0)``: ``make kafka-down`` beside a running ``make run``
then waited 40 s for a broker that had long stopped. So a launcher process starts the command
in its own session and exits at once; the command is re-parented to init, which reaps it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness import pidfile
from harness.errors import HarnessError
from harness.process import wait_for

# argv: log path, then the command. Prints the command's pid.
_LAUNCH = (
    "import subprocess, sys\n"
    "log = open(sys.argv[1], 'ab')\n"
    "child = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, "
    "stderr=subprocess.STDOUT, start_new_session=True)\n"
    "print(child.pid, flush=True)\n"
)


class DetachedProcess:
    """Same surface as :class:`harness.process.ManagedProcess` where the Kafka node uses it."""

    def __init__(
        self,
        args: Sequence[str],
        log_path: Path,
        pid_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.args = list(args)
        self.log_path = log_path
        self.pid_path = pid_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.ident: pidfile.ProcessId | None = None

    def start(self) -> DetachedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        launcher = subprocess.run(
            [sys.executable, "-c", _LAUNCH, str(self.log_path), *self.args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            timeout=30,
            check=False,
        )
        if launcher.returncode != 0 or not launcher.stdout.strip().isdigit():
            raise HarnessError(f"could not launch {self.args[0]}: {launcher.stderr.strip()[-300:]}")
        pid = int(launcher.stdout)
        self.ident = pidfile.identify(pid) or pidfile.ProcessId(pid, -1)  # -1: already gone
        pidfile.write(self.pid_path, self.ident)
        return self

    @property
    def pid(self) -> int:
        assert self.ident is not None, "not started"
        return self.ident.pid

    @property
    def running(self) -> bool:
        return self.ident is not None and pidfile.alive(self.ident)

    def signal(self, signum: int) -> None:
        if self.running:
            os.killpg(self.pid, signum)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL."""
        self.signal(signal.SIGTERM)
        if not wait_for(lambda: not self.running, timeout, 0.1):
            self.kill()

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        wait_for(lambda: not self.running, 10, 0.05)

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.output().splitlines()[-lines:])
