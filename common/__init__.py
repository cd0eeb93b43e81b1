"""Shared tick schema and wire codecs for the producer and the gateway."""
