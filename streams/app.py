"""The faust application factory.

Settings that matter for correctness, and why:
- at-least-once (the default processing guarantee): `exactly_once` has open bugs in faust;
  every effect downstream is idempotent instead (keys on report, task and event ids);
- agents run with concurrency 1: with more, faust can commit offsets past unfinished work;
- topics are never auto-created: `yiwang up` declares them with explicit partition counts;
- the consumer group id carries the topic prefix, so a test session never joins the main
  job's group.
"""

from __future__ import annotations

from typing import Any

import faust

from config.settings import Settings


def broker_url(bootstrap_servers: str) -> str:
    """faust wants `kafka://h1:9092;h2:9092` for a list of brokers."""
    return ";".join(f"kafka://{server.strip()}" for server in bootstrap_servers.split(","))


def create_app(settings: Settings, *, app_id: str = "yiwang", **overrides: Any) -> faust.App:
    group = f"{settings.topic_prefix}{app_id}"
    datadir = settings.home / "faust" / group
    datadir.parent.mkdir(parents=True, exist_ok=True)  # faust creates only the last level
    conf: dict[str, Any] = {
        "broker": broker_url(settings.bootstrap_servers),
        "store": "memory://",
        "datadir": str(datadir),
        "web_enabled": False,
        "topic_disable_leader": True,
        "topic_replication_factor": settings.replication_factor,
        "consumer_auto_offset_reset": "earliest",
        "producer_acks": -1,
        "broker_commit_every": 1000,
        "broker_commit_interval": 1.0,
        # what waits in faust's one queue in front of the read-ahead, and what one poll hands out:
        # every partition's records pass through that queue in arrival order, so a bursting
        # partition's records there are ahead of a quiet one's next record whatever the
        # read-ahead pauses (streams/read_ahead.py); the rest wait in the Kafka client's fetch
        # buffers, per partition (8,192 and unbounded polls before: seconds of a burst queued)
        "stream_buffer_maxsize": 1000,
        "broker_max_poll_records": 500,
        # a worker that dies (kill -9, a lost host) is noticed after 20 s rather than faust's 60:
        # its partitions, and the reports waiting on them, move to a live worker that much sooner;
        # heartbeats (every 3 s) come from their own task, so a batch or a pause of a few seconds
        # never counts against it
        "broker_session_timeout": 20.0,
    }
    conf.update(overrides)
    return faust.App(group, **conf)
