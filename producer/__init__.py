"""The producer service (python -m producer): a seeded market model publishing ticks to Kafka.

Holds the market model and generator, pacing, the bounded tick buffer, the batch sender and
its Kafka client lifecycle, settings and metrics. It may touch common/; never gateway/.
"""
