"""`python -m producer`: random stock ticks into Kafka (configured by PRODUCER_* variables)."""

from __future__ import annotations

import asyncio
import sys

from common.runtime import configure_logging
from common.settings import EXIT_BAD_CONFIG, load_or_exit
from producer.app import run
from producer.generator import SelectionError, build_market
from producer.settings import ProducerSettings


def main() -> int:
    settings = load_or_exit(ProducerSettings, sys.argv[1:], "producer")
    try:
        market, owned = build_market(settings)
    except SelectionError as exc:  # settings valid one by one, empty together
        print(f"producer: bad configuration: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    configure_logging(settings.log_level)
    return asyncio.run(run(settings, market, owned))


if __name__ == "__main__":
    sys.exit(main())
