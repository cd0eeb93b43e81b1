"""What the producer, the gateway and the harness share: the tick schema and its codecs, headers,
settings, and the small Kafka kit (bounded awaits, topic creation, rate-limited log lines).

It may touch only third-party libraries; nothing here imports a service.
"""
