"""Test and dev harness: real Kafka (``harness.kafka``), managed child processes (``harness.process``),
free ports (``harness.ports``) and the ``python -m harness up|down|status`` CLI."""
