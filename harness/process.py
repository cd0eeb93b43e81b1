"""Child processes that never outlive the test or command that started them (see harness/detach.py).

Each child gets its own process group and PR_SET_PDEATHSIG, so even a kill -9 of the
parent takes the JVMs and services with it; an atexit hook stops the rest.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

_RUNNING: set[ManagedProcess] = set()
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> Callable[[], None]:
    """preexec_fn: SIGKILL this child when the parent dies (note: when the *thread* that forked it exits)."""

    def setup() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return setup


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_http_ok(url: str, timeout: float, interval: float = 0.1) -> bool:
    """Poll ``url`` until it answers 2xx or ``timeout`` seconds pass."""
    return wait_for(lambda: http_ok(url, min(1.0, max(timeout, 0.1))), timeout, interval)


class ManagedProcess:
    """A subprocess with its output in a log file, stopped gracefully or killed on demand."""

    def __init__(
        self,
        args: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.args = list(args)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
        self.popen = subprocess.Popen(
            self.args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
        _RUNNING.add(self)
        log.debug("started pid %s: %s", self.popen.pid, " ".join(self.args))
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None, "not started"
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def is_running(self) -> bool:
        return self.running

    @property
    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def signal(self, signum: int) -> None:
        if self.running:
            os.killpg(self.pid, signum)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL. Returns the exit code."""
        if self.popen is None:
            return None
        if self.running:
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("pid %s ignored SIGTERM for %.0fs: killing it", self.pid, timeout)
                self.kill()
        return self._reap()

    def kill(self) -> int | None:
        """kill -9 the whole process group."""
        if self.popen is None:
            return None
        if self.running:
            self.signal(signal.SIGKILL)
        return self._reap()

    def kill9(self) -> int | None:
        """Alias of :meth:`kill` (SIGKILL to the process group, no cleanup in the child)."""
        return self.kill()

    def wait(self, timeout: float) -> int | None:
        if self.popen is None:
            return None
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self._reap()

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_for(self, predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
        """Poll ``predicate`` until true; gives up early (False) if the process exits."""
        return wait_for(lambda: predicate() or not self.running, timeout, interval) and predicate()

    def wait_http_ok(self, url: str, timeout: float) -> bool:
        """Until ``url`` answers 2xx; False on timeout or if the process exits first."""
        return self.wait_for(lambda: http_ok(url), timeout, 0.1)

    def wait_for_output(self, text: str, timeout: float) -> bool:
        return wait_for(lambda: text in self.output() or not self.running, timeout) and text in self.output()

    def _reap(self) -> int | None:
        assert self.popen is not None
        try:
            code = self.popen.wait(10)
        except subprocess.TimeoutExpired:
            return None
        _RUNNING.discard(self)
        if self._log is not None:
            self._log.close()
            self._log = None
        return code


@atexit.register
def _stop_all() -> None:
    for child in list(_RUNNING):
        child.kill()
