"""Producers and consumers on the real broker: key-based batches, Key_Shared order, dead letters."""

from __future__ import annotations

from core.broker import DeadLetters, create_producer, send, subscribe
from core.messages import FrameMeta, OutgoingMessage, decode_frame, encode_frame
from tests.test_messages import JPEG, NOW


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
