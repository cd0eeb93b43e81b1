"""The harness's single error type: one line a human can act on."""


class HarnessError(RuntimeError):
    """Kafka could not be set up or started; the message says why on one line (plus a log tail)."""
