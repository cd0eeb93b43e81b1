"""The ingest wing: Kafka in, Perspective tables out.

Holds the Kafka source and its per-partition progress, the per-poll inbox, the routing of
each poll's messages to the decoders, de-duplication by (producer_id, seq), the tables (their
schemas and rows) and writer, the 1 s bars, live stats and the live/stale verdict, and the
dead-letter copy of bad messages. It may touch common/, the gateway's settings and metrics,
and Perspective's server; never gateway/serve/.
"""
