"""The history service: every admitted tick kept in a DuckDB file, served read-only.

``python -m history`` consumes the ticks topic with its own consumer group, appends each
poll's ticks to DuckDB in one transaction (de-duplicated on ``(producer_id, seq)``), commits
the Kafka offsets only after that transaction, prunes rows past the retention, and serves
the database through Perspective's DuckDB virtual server at ``/history``, with the gateway's
serve protections (gateway/serve) and a validator for every view config. It may import
common/ and gateway/serve; the gateway never imports history.
"""
