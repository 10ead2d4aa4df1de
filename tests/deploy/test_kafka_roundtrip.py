"""kafka-python producer -> real broker -> faust agent -> real broker -> kafka-python consumer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from config.settings import Settings
from deploy.topics import admin_client

pytestmark = pytest.mark.kafka
HERE = Path(__file__).resolve().parent


def test_producer_and_faust_agent_exchange_records(kafka: Settings, unique: str, tmp_path: Path) -> None:
    topic_in, topic_out = kafka.topic(f"echo-{unique}.in"), kafka.topic(f"echo-{unique}.out")
    admin = admin_client(kafka)
    admin.create_topics([NewTopic(topic_in, 3, 1), NewTopic(topic_out, 3, 1)])
    admin.wait_for_topics([topic_in, topic_out])

    producer = KafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
    )
    sent = {f"k{i}": {"n": i, "text": "井盖缺失"} for i in range(200)}
    for key, value in sent.items():
        producer.send(topic_in, key=key.encode(), value=json.dumps(value).encode())
    producer.flush()
    producer.close()

    env = {
        **os.environ,
        "ECHO_IN": topic_in,
        "ECHO_OUT": topic_out,
        "ECHO_GROUP": f"echo-{unique}",
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "YIWANG_HOME": str(tmp_path),
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, str(HERE / "faust_echo.py")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    received: dict[str, dict[str, object]] = {}
    try:
        consumer = KafkaConsumer(
            topic_out,
            bootstrap_servers=kafka.bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=None,
            consumer_timeout_ms=1000,
        )
        deadline = time.monotonic() + 120
        while len(received) < len(sent) and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
            for record in consumer:
                received[record.key.decode()] = json.loads(record.value)
        consumer.close()
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        admin.delete_topics([topic_in, topic_out], raise_errors=False)
        admin.close()

    assert set(received) == set(sent), (tmp_path / "worker.log").read_text()[-2000:]
    for key, value in sent.items():
        assert received[key] == {"echo": value, "by": "faust"}
