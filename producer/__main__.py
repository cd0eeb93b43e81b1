"""`python -m producer`: random stock ticks into Kafka (configured by PRODUCER_* variables)."""

from __future__ import annotations

import asyncio
import sys

from common.runtime import configure_logging
from common.settings import EXIT_BAD_CONFIG, load_or_exit
from producer.app import run
from producer.settings import ProducerSettings


def main() -> int:
    settings = load_or_exit(ProducerSettings, sys.argv[1:], "producer")
    configure_logging(settings.log_level)
    try:
        return asyncio.run(run(settings))
    except ValueError as exc:  # a selection that is valid alone but empty together
        print(f"producer: bad configuration: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG


if __name__ == "__main__":
    sys.exit(main())
