"""Pulsar producers and consumers, set up the one way every component uses them.

- Producers batch by key, so a Key_Shared consumer never receives a batch mixing streams.
- Consumers subscribe Key_Shared (ordered per stream id, spread across processes), with a dead-letter policy
  for messages that keep failing, and workers send undecodable messages to the dead-letter topic at once
  through :class:`DeadLetters`.

Only ``pulsar-client``'s public API is used: the same code talks to pulsar-lite and to a real Apache Pulsar
cluster. Which broker is behind the URL is the explicit setting ``STREAMSCOPE_BROKER`` (embedded | pulsar), and
this module is the only place that acts on it: :class:`Consumer` works around pulsar-lite 0.2.0's defects when
the broker is the embedded one, and is a thin wrapper otherwise.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from typing import TYPE_CHECKING

from core.messages import OutgoingMessage
from core.runtime import pulsar_url
from core.settings import Settings

if TYPE_CHECKING:
    import pulsar

log = logging.getLogger(__name__)

_clients: dict[str, pulsar.Client] = {}
_lock = threading.Lock()
_distinct_ids: set[str] = set()

# An idle embedded consumer checks for entries it was never handed after this long, doubling to the maximum.
STALL_CHECK_INITIAL_S = 0.0
STALL_CHECK_MAX_S = 5.0
# A consumer whose re-subscriptions have brought nothing for this long, while the topic holds entries it never
# saw, asks the embedded runtime to restart the broker (at most once per consumer).
STALL_RESTART_S = 5.0


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
        _distinct_ids.clear()


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
) -> Consumer:
    """A Key_Shared :class:`Consumer` on ``topic`` with a dead-letter policy and batch receive."""
    return Consumer(settings, topic, subscription, consumer_name=consumer_name,
                    receiver_queue_size=receiver_queue_size, batch_max_messages=batch_max_messages,
                    batch_timeout_ms=batch_timeout_ms)


def is_embedded(settings: Settings) -> bool:
    return settings.broker == "embedded"


class Consumer:
    """The one consumer every worker uses: ``batch_receive``, ``receive``, ``acknowledge``,
    ``negative_acknowledge``, ``close``.

    With the embedded broker (pulsar-lite 0.2.0) it works around two defects, so that a worker killed with
    ``kill -9`` and restarted alone resumes within seconds, with the broker left alone:

    - pulsar-lite redelivers a dead consumer's unacknowledged Key_Shared messages one per key per dispatch round,
      and starts a new round only on a flow request of a new subscription (or a new publish), not on an
      acknowledgement: the restarted consumer would get one message per stream and then wait (75 s measured, until
      the broker restarted). When a receive comes back empty, nothing is left unacknowledged, and the topic holds
      an entry this consumer was never handed, it closes and re-opens its subscription (a flow request), which
      hands over the next round. Nothing is redelivered twice: a kick happens only with nothing unacknowledged.
    - pulsar-lite sometimes keeps a ``kill -9``ed consumer registered with its keys (about 75 s); re-subscribing
      does not help then. A consumer whose re-subscriptions brought nothing for ``STALL_RESTART_S``, while the
      topic holds entries it never saw, asks the runtime that started the broker to restart it
      (:func:`core.embedded.restart_stalled_pulsar`), once; every client reconnects by itself. A consumer that
      legitimately has no keys (more consumers than streams) costs one needless broker restart at most.
    - pulsar-lite numbers consumers per connection but keys a Key_Shared dispatcher's consumers by that number
      alone, so the first consumers of two processes collide (the second never receives, or its subscribe times
      out). A few throwaway consumers opened first give this process another number than its neighbours'.

    With ``STREAMSCOPE_BROKER=pulsar`` none of this runs.
    """

    def __init__(self, settings: Settings, topic: str, subscription: str, *, consumer_name: str | None = None,
                 receiver_queue_size: int = 1000, batch_max_messages: int = 500, batch_timeout_ms: int = 100):
        self.settings = settings
        self.topic = settings.topic(topic)
        self.subscription = subscription
        self._args = dict(consumer_name=consumer_name, receiver_queue_size=receiver_queue_size,
                          batch_max_messages=batch_max_messages, batch_timeout_ms=batch_timeout_ms)
        self.embedded = is_embedded(settings)
        if self.embedded:
            _distinct_consumer_id(settings)
        self._consumer = self._open()
        self._unacked = 0
        self._highest: tuple[int, int] | None = None
        self._check_delay = STALL_CHECK_INITIAL_S
        self._next_check = 0.0
        self._last_received_at = time.monotonic()
        self._restart_asked = False
        self.resubscriptions = 0

    def _open(self):
        import pulsar

        args = self._args
        kwargs = {"consumer_name": args["consumer_name"]} if args["consumer_name"] else {}
        return get_client(self.settings).subscribe(
            self.topic,
            self.subscription,
            consumer_type=pulsar.ConsumerType.KeyShared,
            initial_position=pulsar.InitialPosition.Earliest,
            receiver_queue_size=args["receiver_queue_size"],
            negative_ack_redelivery_delay_ms=1000,
            dead_letter_policy=pulsar.ConsumerDeadLetterPolicy(
                max_redeliver_count=self.settings.max_redeliveries,
                dead_letter_topic=self.settings.dead_letter_topic(self.topic),
            ),
            batch_receive_policy=pulsar.ConsumerBatchReceivePolicy(args["batch_max_messages"], -1,
                                                                   args["batch_timeout_ms"]),
            **kwargs,
        )

    # ------------------------------------------------------------------------------------------- receive

    def batch_receive(self) -> list:
        """The next batch (empty after the batch timeout when nothing came)."""
        batch = list(self._consumer.batch_receive())
        if batch:
            self._received(batch)
        elif self.embedded:
            self._kick_if_stalled()
        return batch

    def receive(self, timeout_millis: int | None = None):
        """One message (raises pulsar.Timeout after ``timeout_millis``)."""
        try:
            message = self._consumer.receive(timeout_millis) if timeout_millis is not None else \
                self._consumer.receive()
        except Exception:
            if self.embedded:
                self._kick_if_stalled()
            raise
        self._received([message])
        return message

    def _received(self, batch: list) -> None:
        self._unacked += len(batch)
        self._last_received_at = time.monotonic()
        if self.embedded:
            highest = max(_position(message.message_id()) for message in batch)
            if self._highest is None or highest > self._highest:
                self._highest = highest
            self._check_delay = STALL_CHECK_INITIAL_S
            self._next_check = 0.0

    def acknowledge(self, message) -> None:
        self._consumer.acknowledge(message)
        self._unacked = max(self._unacked - 1, 0)

    def negative_acknowledge(self, message) -> None:
        self._consumer.negative_acknowledge(message)
        self._unacked = max(self._unacked - 1, 0)

    def get_last_message_id(self):
        return self._consumer.get_last_message_id()

    def close(self) -> None:
        self._consumer.close()

    # ---------------------------------------------------------------------------------- embedded broker

    def _kick_if_stalled(self) -> None:
        """Re-open the subscription when idle, nothing unacknowledged, and the topic holds an unseen entry."""
        now = time.monotonic()
        if self._unacked or now < self._next_check:
            return
        self._check_delay = min(max(self._check_delay * 2, 0.2), STALL_CHECK_MAX_S)
        self._next_check = now + self._check_delay
        try:
            last = self._consumer.get_last_message_id()
        except Exception as error:  # the broker is away: the client reconnects by itself
            log.debug("last message id of %s unknown: %s", self.topic, error)
            return
        if last.entry_id() < 0 or (self._highest is not None and _position(last) <= self._highest):
            return
        if not self._restart_asked and self.resubscriptions and now - self._last_received_at >= STALL_RESTART_S:
            from core.embedded import restart_stalled_pulsar

            try:
                # False: not ours to restart, or restarted less than 10 s ago (by another worker): ask again later
                self._restart_asked = restart_stalled_pulsar(self.settings)
            except Exception as error:  # keep kicking
                log.warning("could not restart the embedded broker: %s", error)
            self._last_received_at = now  # the next attempt STALL_RESTART_S from now
            return
        self._consumer.close()
        self._consumer = self._open()
        self.resubscriptions += 1
        self._check_delay = STALL_CHECK_INITIAL_S  # the next round may follow at once
        self._next_check = 0.0
        log.debug("re-subscribed to %s as %s (idle with unseen entries)", self.topic, self.subscription)


def _position(message_id) -> tuple[int, int]:
    return (message_id.ledger_id(), message_id.entry_id())


def _distinct_consumer_id(settings: Settings) -> None:
    """Open ``pid % 61`` throwaway consumers on this process's client once (see :class:`Consumer`)."""
    import pulsar

    url = pulsar_url(settings)
    with _lock:
        if url in _distinct_ids:
            return
        _distinct_ids.add(url)
    client = get_client(settings)
    topic = f"non-persistent://public/default/streamscope-consumer-ids-{uuid.uuid4().hex[:8]}"
    for _ in range(os.getpid() % 61):
        client.subscribe(topic, "bump", consumer_type=pulsar.ConsumerType.Exclusive).close()


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
