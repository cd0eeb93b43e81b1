"""Peer benchmark: how fast Deephaven's embedded server ingests a Kafka topic of JSON ticks into a table.

Deephaven runs in its own venv (``.venv-peer``, pinned by ``bench/peer-requirements.txt``) so its
dependencies never meet ours; ``bench/peer_worker.py`` runs there as a bounded subprocess, and any
failure comes back as :class:`PeerUnavailable` with a one-line reason for the report.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
VENV: Final = ROOT / ".venv-peer"
REQUIREMENTS: Final = Path(__file__).resolve().parent / "peer-requirements.txt"
WORKER: Final = Path(__file__).resolve().parent / "peer_worker.py"
STAMP_NAME: Final = ".peer-stamp"
DEEPHAVEN_VERSION: Final = "42.7"
PIP_TIMEOUT_S: Final = 1200.0
RESULT_KEYS: Final = ("ticks_per_s", "rows", "seconds", "startup_s")


class PeerUnavailable(Exception):
    """The peer could not be measured; ``reason`` is one precise line for the report."""

    def __init__(self, reason: str) -> None:
        self.reason = " ".join(reason.split())[:400] or "unknown reason"
        super().__init__(self.reason)


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _stamp() -> str:
    """What the venv was built from: the requirements and the interpreter that built it."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


def _last_line(text: str, prefer: tuple[str, ...] = ("ERROR", "Error", "error")) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(prefer):
            return line
    return lines[-1] if lines else ""


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One ensure_venv at a time across processes (two runners must not build the same venv)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_step(what: str, argv: list[str], timeout: float) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PeerUnavailable(f"{what} timed out after {timeout:.0f}s") from exc
    except OSError as exc:
        raise PeerUnavailable(f"{what} could not start: {exc}") from exc
    if done.returncode != 0:
        detail = _last_line(done.stderr) or _last_line(done.stdout)
        raise PeerUnavailable(f"{what} failed (exit {done.returncode}): {detail}")


def ensure_venv(venv: Path = VENV) -> Path:
    """Build ``venv`` from the pinned requirements unless its stamp already matches; return its python.

    A stamp that does not match (or a half-built venv, which has none) means a fresh build from scratch,
    so the venv always holds exactly the pinned set.
    """
    stamp = _stamp()
    stamp_file = venv / STAMP_NAME
    python = _python(venv)
    if python.exists() and stamp_file.exists() and stamp_file.read_text().strip() == stamp:
        return python
    venv_id = hashlib.sha256(str(venv).encode()).hexdigest()[:12]
    lock = Path(tempfile.gettempdir()) / f"peer-venv-{venv_id}.lock"
    with _locked(lock):
        if python.exists() and stamp_file.exists() and stamp_file.read_text().strip() == stamp:
            return python  # another process built it while we waited
        shutil.rmtree(venv, ignore_errors=True)
        _run_step("creating the peer venv", [sys.executable, "-m", "venv", str(venv)], 300)
        (venv / ".gitignore").write_text("*\n")  # as Python 3.13's venv does
        pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--no-input"]
        # --no-deps: the file pins the whole closure; pip check then proves the closure is complete.
        _run_step(
            "pip install -r bench/peer-requirements.txt",
            [*pip, "install", "--progress-bar", "off", "--no-deps", "-r", str(REQUIREMENTS)],
            PIP_TIMEOUT_S,
        )
        _run_step("pip check in the peer venv", [*pip, "check"], 120)
        stamp_file.write_text(stamp + "\n")
    return python


def java_home() -> str:
    """JAVA_HOME if set, else the JDK behind ``java`` on PATH (Deephaven's jpy needs libjvm)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return home
    java = shutil.which("java")
    if java is None:
        raise PeerUnavailable("no JVM: JAVA_HOME is unset and java is not on PATH (Deephaven needs Java 17+)")
    return str(Path(java).resolve().parent.parent)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _check_broker(bootstrap: str) -> None:
    """Fail fast on a dead broker: Deephaven's Kafka consumer would retry it silently until the timeout."""
    errors = []
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
                return
        except (OSError, ValueError) as exc:
            errors.append(f"{address}: {exc}")
    raise PeerUnavailable(f"Kafka bootstrap unreachable ({'; '.join(errors)})")


def deephaven_ingest(bootstrap: str, topic: str, ticks: int, timeout_s: float = 300) -> dict[str, Any]:
    """Time Deephaven consuming ``topic`` from its start into an append table until it holds ``ticks`` rows.

    Returns ``ticks_per_s`` (rows / seconds), ``rows``, ``seconds`` (from the consume call to the table
    holding ``ticks`` rows), ``version`` and ``startup_s`` (JVM + server start, not counted in ticks/s).
    ``timeout_s`` bounds the worker (startup included); the venv build before it is bounded on its own.
    """
    _check_broker(bootstrap)
    python = ensure_venv()
    env = {**os.environ, "JAVA_HOME": java_home(), "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix="peer-deephaven-") as tmp:
        work = Path(tmp)
        result_file = work / "result.json"
        log_file = work / "worker.log"
        argv = [
            str(python),
            str(WORKER),
            "--bootstrap",
            bootstrap,
            "--topic",
            topic,
            "--ticks",
            str(ticks),
            "--result",
            str(result_file),
            "--workdir",
            str(work),
            "--timeout",
            str(max(timeout_s - max(5.0, timeout_s / 10), 1)),
        ]
        with log_file.open("wb") as log:
            # Own session: on timeout the whole group goes. stdin stays a pipe the worker watches, so it
            # exits (JVM included, jpy runs it in-process) if this process dies without closing it.
            proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work,
                start_new_session=True,
            )  # fmt: skip
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                raise PeerUnavailable(
                    f"Deephaven worker killed after {timeout_s:.0f}s timeout; it last said: "
                    f"{_last_line(log_file.read_text(errors='replace'), ('peer-worker:',))}"
                ) from None
            except BaseException:
                _kill_group(proc)
                raise
            finally:
                if proc.stdin is not None:
                    proc.stdin.close()
                _kill_group(proc)  # any straggler left in the group
        return _read_result(result_file, log_file, proc.returncode)


def _read_result(result_file: Path, log_file: Path, returncode: int) -> dict[str, Any]:
    if not result_file.exists():
        tail = _last_line(log_file.read_text(errors="replace"), ("ERROR", "Error", "error", "Exception"))
        raise PeerUnavailable(f"Deephaven worker exited {returncode} without a result: {tail}")
    try:
        result = json.loads(result_file.read_text())
    except json.JSONDecodeError as exc:
        raise PeerUnavailable(f"Deephaven worker wrote an unreadable result: {exc}") from exc
    if not result.get("ok"):
        stage = str(result.get("stage", "?"))
        reason = f"Deephaven {stage} failed: {result.get('error', '?')}"
        if stage.startswith("JVM"):  # jpy says only "failed to create Java VM"; the JVM said why in the log
            said = [
                line.strip()
                for line in log_file.read_text(errors="replace").splitlines()
                if line.strip() and not line.startswith(("peer-worker:", "{"))
            ]
            reason += f" ({said[-1]})" if said else ""
        raise PeerUnavailable(reason)
    missing = [key for key in RESULT_KEYS if key not in result]
    if missing:
        raise PeerUnavailable(f"Deephaven worker result lacks {', '.join(missing)}")
    return {
        "ticks_per_s": float(result["ticks_per_s"]),
        "rows": int(result["rows"]),
        "seconds": float(result["seconds"]),
        "version": str(result.get("version", DEEPHAVEN_VERSION)),
        "startup_s": float(result["startup_s"]),
        "first_row_s": float(result.get("first_row_s", 0.0)),
        "cycle_ms": int(result.get("cycle_ms", 0)),
        "fetch": str(result.get("fetch", "")),
        "peak_rss_mb": int(result.get("peak_rss_mb", 0)),
    }


__all__ = ["PeerUnavailable", "deephaven_ingest", "ensure_venv"]
