"""Pulsar producers and consumers, set up the one way every component uses them.

- Producers batch by key, so a Key_Shared consumer never receives a batch mixing streams.
- Consumers subscribe Key_Shared (ordered per stream id, spread across processes), with a dead-letter policy
  for messages that keep failing, and workers send undecodable messages to the dead-letter topic at once
  through :class:`DeadLetters`.

Only ``pulsar-client`` is used: the same code talks to pulsar-lite and to a real Apache Pulsar cluster.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from core.messages import OutgoingMessage
from core.runtime import pulsar_url
from core.settings import Settings

if TYPE_CHECKING:
    import pulsar

_clients: dict[str, pulsar.Client] = {}
_lock = threading.Lock()


def get_client(settings: Settings) -> pulsar.Client:
    """One client per broker URL and process (clients are thread-safe and pool connections)."""
    import pulsar

    url = pulsar_url(settings)
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = pulsar.Client(url, operation_timeout_seconds=30, logger=_quiet_logger())
            _clients[url] = client
        return client


def close_clients() -> None:
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def _quiet_logger():
    """The C++ client logs every connection at INFO (and DEBUG through a Python logger); keep warnings."""
    import pulsar

    return pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn)


def create_producer(settings: Settings, topic: str, *, batching: bool = True, name: str | None = None):
    """A producer on ``topic`` (a short name or a full one) that batches by key when batching."""
    import pulsar

    kwargs = {}
    if name:
        kwargs["producer_name"] = name
    return get_client(settings).create_producer(
        settings.topic(topic),
        block_if_queue_full=True,
        batching_enabled=batching,
        batching_type=pulsar.BatchingType.KeyBased,
        batching_max_publish_delay_ms=10,
        max_pending_messages=10_000,
        send_timeout_millis=30_000,
        **kwargs,
    )


def send(producer, message: OutgoingMessage, callback=None) -> None:
    """Send synchronously, or asynchronously when a ``callback(result, message_id)`` is given."""
    args = dict(
        properties=message.properties,
        partition_key=message.key,
        event_timestamp=message.event_timestamp_ms,
    )
    if callback is None:
        producer.send(message.payload, **args)
    else:
        producer.send_async(message.payload, callback, **args)


def subscribe(
    settings: Settings,
    topic: str,
    subscription: str,
    *,
    consumer_name: str | None = None,
    receiver_queue_size: int = 1000,
    batch_max_messages: int = 500,
    batch_timeout_ms: int = 100,
):
    """A Key_Shared consumer on ``topic`` with a dead-letter policy and batch receive."""
    import pulsar

    kwargs = {}
    if consumer_name:
        kwargs["consumer_name"] = consumer_name
    return get_client(settings).subscribe(
        settings.topic(topic),
        subscription,
        consumer_type=pulsar.ConsumerType.KeyShared,
        initial_position=pulsar.InitialPosition.Earliest,
        receiver_queue_size=receiver_queue_size,
        negative_ack_redelivery_delay_ms=1000,
        dead_letter_policy=pulsar.ConsumerDeadLetterPolicy(
            max_redeliver_count=settings.max_redeliveries,
            dead_letter_topic=settings.dead_letter_topic(topic),
        ),
        batch_receive_policy=pulsar.ConsumerBatchReceivePolicy(batch_max_messages, -1, batch_timeout_ms),
        **kwargs,
    )


class DeadLetters:
    """Routes messages that can never be processed to ``<topic>-dlq``, with the reason, and counts them."""

    def __init__(self, settings: Settings, topic: str):
        self.topic = settings.dead_letter_topic(topic)
        self._producer = create_producer(settings, self.topic, batching=False)
        self.count = 0

    def send(self, msg, reason: str) -> None:
        """Copy ``msg`` (a pulsar.Message) to the dead-letter topic; the caller then acknowledges it."""
        properties = dict(msg.properties())
        properties["dead_letter_reason"] = reason[:1000]
        properties["original_message_id"] = str(msg.message_id())
        self._producer.send(
            msg.data(),
            properties=properties,
            partition_key=msg.partition_key() or None,
            event_timestamp=msg.event_timestamp() or None,
        )
        self.count += 1

    def close(self) -> None:
        self._producer.close()
