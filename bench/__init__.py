"""Benchmarks against a real Kafka broker: `make bench` (full) and `make bench-quick`."""
