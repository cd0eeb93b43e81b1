"""A private Docker engine for the compose tests: provisioned from scratch, always stopped.

- Debian's ``docker.io`` is installed when ``dockerd`` is missing (root or passwordless sudo).
- ``dockerd`` runs with its own data root, exec root, socket and pidfile under ``.run/docker/``
  (git-ignored), so it never meets a system engine or another worktree's.
- The Compose v2 CLI comes from ``docker/compose-cli.sh`` (built once, cached in ~/.cache/tickerflow)
  and is found by the docker CLI through a private ``DOCKER_CONFIG/cli-plugins``.
- The stand-in base images come from ``docker/standins/build.sh`` (cached by content hash).

Stopping: :meth:`Engine.stop` runs from the session fixture's finalizer, from ``atexit`` and on
SIGTERM; dockerd also gets SIGTERM if pytest dies (PR_SET_PDEATHSIG). A dockerd left by a killed run
is found by its pidfile and stopped before a new one starts; dockerd stops its containers on SIGTERM.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / ".run" / "docker"
_PR_SET_PDEATHSIG = 1
PACKAGES = {"dockerd": "docker.io", "debootstrap": "debootstrap"}  # command -> Debian package


def _sh(*command: str, timeout: float, env: dict[str, str] | None = None) -> str:
    """Run a provisioning step; fail with its own output (bounded by ``timeout``)."""
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _term_on_parent_death() -> None:
    # SIGTERM, not SIGKILL: dockerd then stops its containers instead of orphaning them.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def install_engine() -> None:
    """Debian's docker.io (the engine) and debootstrap (for the Python stand-in), when missing."""
    missing = [package for command, package in PACKAGES.items() if not shutil.which(command)]
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _sh(*sudo, "apt-get", "update", "-qq", timeout=300, env=env)
    _sh(*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, timeout=600, env=env)


class Engine:
    """``dockerd`` on ``unix://.run/docker/docker.sock``; :attr:`env` points docker and compose at it."""

    def __init__(self, run: Path = RUN) -> None:
        self.run = run
        self.socket = run / "docker.sock"
        self.pidfile = run / "dockerd.pid"
        self.log = run / "dockerd.log"
        self.config = run / "config"
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_CONFIG": str(self.config),
            "COMPOSE_ANSI": "never",
            "COMPOSE_PROGRESS": "plain",
        }

    def provision(self) -> None:
        """Everything the compose files need, idempotently: engine, Compose CLI, stand-in images."""
        install_engine()
        compose = _sh("bash", "docker/compose-cli.sh", timeout=900).strip().splitlines()[-1]
        plugins = self.config / "cli-plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        link = plugins / "docker-compose"
        link.unlink(missing_ok=True)
        link.symlink_to(compose)
        self.start()
        print(_sh("bash", "docker/standins/build.sh", timeout=900, env=self.env), end="")

    def start(self, timeout: float = 60) -> None:
        self.stop_leftover()
        self.run.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    "dockerd",
                    f"--data-root={self.run / 'data'}",
                    f"--exec-root={self.run / 'exec'}",
                    f"--host=unix://{self.socket}",
                    f"--pidfile={self.pidfile}",
                    "--log-level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_term_on_parent_death,
            )
        deadline = time.monotonic() + timeout
        while self.docker("info", check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                self.stop()
                raise RuntimeError(f"dockerd did not become ready in {timeout:.0f}s:\n{tail}")
            time.sleep(0.2)

    def stop_leftover(self) -> None:
        """A dockerd of this folder that an interrupted run left: stop it by its pidfile."""
        with contextlib.suppress(FileNotFoundError, ValueError):
            pid = int(self.pidfile.read_text().strip())
            if _alive(pid) and "dockerd" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                os.kill(pid, signal.SIGTERM)
                self._wait_gone(pid, 60)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()  # dockerd stops every container it runs, then exits
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    @staticmethod
    def _wait_gone(pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)

    def docker(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["docker", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        return result

    def guard(self) -> None:
        """Stop the engine at interpreter exit and on SIGTERM too, not only in the finalizer."""
        atexit.register(self.stop)
        previous = signal.getsignal(signal.SIGTERM)

        def on_term(signum: int, frame: FrameType | None) -> None:
            self.stop()
            if callable(previous):
                previous(signum, frame)
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, on_term)
