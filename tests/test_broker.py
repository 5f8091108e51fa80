"""Producers and consumers on the real broker: key-based batches, Key_Shared order, dead letters."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from core.broker import DeadLetters, create_producer, send, subscribe
from core.messages import FrameMeta, OutgoingMessage, decode_frame, encode_frame
from tests.test_messages import JPEG, NOW

ROOT = Path(__file__).resolve().parents[1]


def test_key_shared_batches_keep_per_stream_order(settings, unique_topic) -> None:
    consumer = subscribe(settings, unique_topic, "order", batch_max_messages=64, batch_timeout_ms=200)
    producer = create_producer(settings, unique_topic)
    for seq in range(50):
        for stream_id in (1, 2, 3):
            send(producer, encode_frame(FrameMeta(stream_id, "s", seq, NOW, 8, 8), JPEG), callback=lambda *_: None)
    producer.flush()
    seen: dict[int, list[int]] = {1: [], 2: [], 3: []}
    while sum(map(len, seen.values())) < 150:
        batch = consumer.batch_receive()
        for message in batch:
            frame = decode_frame(message.properties(), message.event_timestamp(), message.data())
            assert message.partition_key() == str(frame.meta.stream_id)
            seen[frame.meta.stream_id].append(frame.meta.seq)
        for message in batch:
            consumer.acknowledge(message)
    assert all(seqs == list(range(50)) for seqs in seen.values())
    producer.close()
    consumer.close()


def test_dead_letters_carry_the_payload_and_the_reason(settings, unique_topic) -> None:
    consumer = subscribe(settings, unique_topic, "dlq")
    dlq_reader = subscribe(settings, settings.dead_letter_topic(unique_topic), "inspect")
    producer = create_producer(settings, unique_topic, batching=False)
    send(producer, OutgoingMessage(b"garbage", "9", {"schema": "nope"}, 1_700_000_000_000))
    message = consumer.receive(timeout_millis=10_000)
    dead = DeadLetters(settings, unique_topic)
    dead.send(message, "unknown frame schema 'nope'")
    consumer.acknowledge(message)
    copied = dlq_reader.receive(timeout_millis=10_000)
    assert copied.data() == b"garbage"
    assert copied.properties()["dead_letter_reason"] == "unknown frame schema 'nope'"
    assert copied.partition_key() == "9"
    assert dead.count == 1
    for closeable in (dead, producer, consumer, dlq_reader):
        closeable.close()


def test_a_negative_ack_brings_the_message_back(settings, unique_topic) -> None:
    """Redelivery after a nack. (pulsar-lite 0.2.0 redelivers a nacked Key_Shared message once only, so the
    workers never rely on max-redelivery dead-lettering: they dead-letter undecodable messages themselves.)"""
    consumer = subscribe(settings, unique_topic, "nack")
    producer = create_producer(settings, unique_topic, batching=False)
    send(producer, OutgoingMessage(b"again", "1", {}, 1_700_000_000_000))
    first = consumer.receive(timeout_millis=10_000)
    consumer.negative_acknowledge(first)
    second = consumer.receive(timeout_millis=10_000)
    assert second.data() == b"again"
    assert second.redelivery_count() == first.redelivery_count() + 1
    consumer.acknowledge(second)
    producer.close()
    consumer.close()


_CHILD = """
import os, sys
from core.broker import subscribe
from core.settings import Settings
consumer = subscribe(Settings(), sys.argv[1], "restart", consumer_name="worker", batch_timeout_ms=20)
ack = sys.argv[2] == "ack"
while True:
    for message in consumer.batch_receive():
        print(message.data().decode(), flush=True)
        if ack:
            consumer.acknowledge(message)
"""


def _child(settings, topic: str, mode: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STREAMSCOPE_DATA_DIR": str(settings.data_dir),
           "STREAMSCOPE_EMBEDDED_PULSAR_PORT": str(settings.embedded_pulsar_port)}
    return subprocess.Popen([sys.executable, "-c", _CHILD, topic, mode], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)


def _read_lines(process: subprocess.Popen, count: int, timeout_s: float) -> list[str]:
    """``count`` lines of the child's output, or fail after ``timeout_s`` (a liveness bound, not a speed claim)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout.readline().strip() for _ in range(count)),
                              daemon=True)
    reader.start()
    reader.join(timeout_s)
    return lines


def test_a_consumer_killed_and_restarted_alone_gets_every_message(settings, unique_topic) -> None:
    """kill -9 of a consumer holding unacknowledged messages of several keys, then a restart of that consumer
    only (same subscription, same name), broker untouched: within 30 s it has every message, in order per key.
    (pulsar-lite 0.2.0 gave it one message per key and then nothing for 75 s without core.broker's workaround.)"""
    subscribe(settings, unique_topic, "restart").close()  # the subscription exists before the first message
    producer = create_producer(settings, unique_topic, batching=False)
    keys, per_key = 3, 40
    for i in range(per_key):
        for key in range(keys):
            send(producer, OutgoingMessage(f"{key}:{i}".encode(), str(key), {}, 1_700_000_000_000 + i))
    producer.flush()
    first = _child(settings, unique_topic, "hold")
    try:
        assert len(_read_lines(first, keys * per_key, 60)) == keys * per_key  # received, never acknowledged
    finally:
        first.kill()  # SIGKILL
        first.wait(30)
    second = _child(settings, unique_topic, "ack")
    try:
        lines = _read_lines(second, keys * per_key, 30)
    finally:
        second.kill()
        second.wait(30)
    assert len(lines) == keys * per_key, f"{len(lines)} of {keys * per_key} messages within 30 s"
    for key in range(keys):
        assert [int(line.split(":")[1]) for line in lines if line.startswith(f"{key}:")] == list(range(per_key))
    producer.close()


def test_the_embedded_broker_reports_a_subscriptions_unacknowledged_messages_on_127_0_0_1(settings,
                                                                                        unique_topic) -> None:
    """core.broker reads what a subscription holds from pulsar-lite's metrics (to spot a dead consumer the broker
    kept registered); they are served on 127.0.0.1 at a port of the runtime's own, not pulsar-lite's 0.0.0.0:8080."""
    import time
    import tomllib

    from core.embedded import PULSAR_CONFIG_NAME, subscription_figures

    address = tomllib.loads((settings.pulsar_dir / PULSAR_CONFIG_NAME).read_text())["metrics"]["addr"]
    assert address.startswith("127.0.0.1:") and not address.endswith(":8080")
    consumer = subscribe(settings, unique_topic, "figures", receiver_queue_size=10)
    producer = create_producer(settings, unique_topic, batching=False)
    try:
        for key in range(4):
            send(producer, OutgoingMessage(b"x", str(key), {}, int(NOW.timestamp() * 1000)), callback=lambda *_: None)
        producer.flush()
        consumer.acknowledge(consumer.receive(10_000))
        deadline = time.monotonic() + 15  # the broker updates its gauges about once a second
        while (figures := subscription_figures(settings, unique_topic, "figures")) != (3, 1):
            assert time.monotonic() < deadline, f"figures {figures}, expected 3 held and 1 acknowledged"
            time.sleep(0.2)
    finally:
        producer.close()
        consumer.close()
