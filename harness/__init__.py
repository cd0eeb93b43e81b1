"""Test and dev harness: real Kafka without Docker, and what tests, bench and `make run` share.

Holds the Kafka nodes and clusters (``kafka``, ``cluster``, ``node``), admin calls, managed
child processes, free ports, the persistent local broker (``local``, ``python -m harness
up|down|status``), ``make run`` (``stack``), service start-up (``services``), a Perspective
client (``psp``) and the Chromium driver (``browser``). It may touch common/ and start the
services as processes; it never imports tests/.
"""
