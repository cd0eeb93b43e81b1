"""Process plumbing both services share: logging setup and graceful SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # aiokafka logs every failed reconnect at ERROR with a traceback; our own lines say it once.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL if level.upper() != "DEBUG" else logging.DEBUG)


def install_stop_signals(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> asyncio.Event:
    """Return an event set on the first SIGTERM/SIGINT; a second one exits at once."""
    stopping = asyncio.Event()

    def handle(signum: int) -> None:
        if stopping.is_set():
            logging.getLogger(__name__).warning("second %s: exiting now", signal.Signals(signum).name)
            raise SystemExit(1)
        logging.getLogger(__name__).info("%s received: shutting down", signal.Signals(signum).name)
        stopping.set()
        stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, handle, signum)
    return stopping
