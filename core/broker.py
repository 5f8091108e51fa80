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
import random
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

# An idle embedded consumer checks for entries it was never handed after this long, doubling to the maximum.
STALL_CHECK_INITIAL_S = 0.0
STALL_CHECK_MAX_S = 5.0
# A consumer never handed anything, whose kicks have brought nothing for this long while the topic holds entries
# it never saw, asks the embedded runtime to restart the broker (at most once per consumer).
STALL_RESTART_S = 5.0
# Embedded consumers start their consumer ids at a random number below this (pulsar-lite's id defect): with k
# consumers on a subscription, a collision (one more subscribe attempt) has a chance of about k in 512.
CONSUMER_ID_SPREAD = 512
# An idle consumer kicks for this long after it last received something, even when it has seen the topic's newest
# entry: a consumer killed meanwhile may hold older entries that only a dispatch round hands over (its keys are
# freed at once, or after about 75 s when pulsar-lite keeps the dead consumer registered).
KICK_AFTER_ACTIVITY_S = 120.0
# An idle consumer that has received before reads the subscription's figures from the broker's metrics from this
# long after its last message, for up to HELD_WATCH_S: messages handed out that nobody acknowledges for
# HELD_STUCK_S are held by a dead consumer pulsar-lite kept registered (see Consumer).
HELD_CHECK_AFTER_S = 10.0
HELD_STUCK_S = 30.0
HELD_WATCH_S = 600.0
# While the topic's last message id is unknown (pulsar-lite answers an error on an empty topic), ask at most this often.
EMPTY_TOPIC_CHECK_MAX_S = 60.0
# A kick waits this long after the last acknowledgement (the client groups them for 100 ms).
ACK_SETTLE_S = 0.3
SUBSCRIBE_TIMEOUT_S = 5
SUBSCRIBE_ATTEMPTS = 6
# The property that marks a kick: an empty message that only starts a dispatch round (see Consumer).
KICK_PROPERTY = "streamscope-kick"


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

    With the embedded broker (pulsar-lite 0.2.0) it works around three defects, so that any number of workers on
    any hosts share a subscription, and a worker killed with ``kill -9`` and restarted alone resumes within
    seconds, with the broker left alone:

    - **Consumer ids.** The Pulsar protocol numbers consumers per connection (each client counts from 0), but
      pulsar-lite's Key_Shared dispatcher keys its consumers by that number alone: a second process's consumer 0
      is refused ("Consumer 0 already exists in key-shared dispatcher"), as a protocol error that closes the whole
      connection, and the client retries until ``subscribe`` times out. So each embedded consumer gets a client
      (a connection) of its own, whose counter is first moved to a random number below ``CONSUMER_ID_SPREAD`` by
      opening and closing throwaway consumers (about 1 ms each); in the rare case that number is taken on the
      subscription, the subscribe times out after ``SUBSCRIBE_TIMEOUT_S`` and is tried again with a new client and
      a new number. Only that consumer's own connection is dropped by a collision, never a producer's.
    - **Dispatch rounds.** pulsar-lite redelivers a departed consumer's unacknowledged Key_Shared messages one per
      key per dispatch round, and starts a round on a publish or a change of the subscription's consumers, not on
      an acknowledgement or a flow request: a restarted consumer (or the survivors of a lost host, once the
      publishing stopped) would get one message per stream and then wait (75 s measured, until the broker
      restarted). When a receive comes back empty, nothing is left unacknowledged, and the topic holds an entry
      this consumer was never handed (or it received something less than ``KICK_AFTER_ACTIVITY_S`` ago: a survivor
      that has seen the newest entry may still be owed a dead consumer's older ones), it publishes an empty *kick*
      message (property ``KICK_PROPERTY``; every
      :class:`Consumer` acknowledges and drops kicks, whoever gets them). The kick starts a round without
      changing the subscription's consumers: re-subscribing would, and pulsar-lite then re-splits the hash range
      of every consumer (see the next point). Kicks back off from 0.2 s to ``STALL_CHECK_MAX_S`` while they bring
      nothing (an idle consumer whose streams are all on other consumers sends one every ``STALL_CHECK_MAX_S``).
    - **Rebalancing.** pulsar-lite's AutoSplit gives each consumer an equal slice of the hash range in the order
      of their ids, and moves keys to a new owner at once, even while the old owner still holds unacknowledged
      messages of them (Apache Pulsar holds such keys back until those are acknowledged). A departed consumer's
      messages are redelivered first, in order; but keys moved between consumers that both live (a process joins
      mid-stream, or the slices of the survivors shift when one leaves) can be processed by two consumers at once
      for the time the old owner takes to finish what it holds. The client cannot prevent that; this is why kicks
      never re-subscribe, and it is a documented limit (docs/operations.md): start the processes before the
      frames flow, and keep ``ALLOWED_LATENESS_SECONDS`` above what one process holds.
    - **Dead consumers kept registered.** When a ``kill -9`` resets the connection (the process had unread frames
      in its socket), pulsar-lite keeps the dead consumer registered with its keys and the messages it held. A
      consumer that was never handed anything although the topic holds entries, and whose kicks brought nothing
      for ``STALL_RESTART_S``, asks the runtime that started the broker to restart it
      (:func:`core.embedded.restart_stalled_pulsar`), once; so does an idle consumer that has received before
      when the broker's metrics show the subscription holding handed-out messages that nobody acknowledged for
      ``HELD_STUCK_S`` (a survivor whose peer died that way: it has nothing unseen to kick for). Only a process
      that shares the broker's data directory can; every client reconnects by itself. A consumer that
      legitimately has no keys (more consumers than streams) costs one needless broker restart at most.

    With ``STREAMSCOPE_BROKER=pulsar`` none of this runs: the process's shared client, a thin wrapper.
    """

    def __init__(self, settings: Settings, topic: str, subscription: str, *, consumer_name: str | None = None,
                 receiver_queue_size: int = 1000, batch_max_messages: int = 500, batch_timeout_ms: int = 100):
        self.settings = settings
        self.topic = settings.topic(topic)
        self.subscription = subscription
        self._args = dict(consumer_name=consumer_name, receiver_queue_size=receiver_queue_size,
                          batch_max_messages=batch_max_messages, batch_timeout_ms=batch_timeout_ms)
        self.embedded = is_embedded(settings)
        self._client: pulsar.Client | None = None  # embedded: this consumer's own client (see above)
        self._kick_producer: pulsar.Producer | None = None
        self.kicks = 0
        self.subscribe_attempts = 0
        self._consumer = self._open()
        self._unacked = 0
        self._highest: tuple[int, int] | None = None
        self._check_delay = STALL_CHECK_INITIAL_S
        self._next_check = 0.0
        self._last_received_at = time.monotonic()
        self._received_any = False
        self._unknown_last = 0  # checks in a row that found no last message id (an empty topic)
        self._held_since: tuple[float, float] | None = None  # (since, acknowledged then): see _held_by_a_dead_consumer
        self._last_ack_at = 0.0
        self._restart_asked = False

    def _open(self):
        if not self.embedded:
            return self._subscribe_on(get_client(self.settings))
        import pulsar

        error: Exception | None = None
        for _ in range(SUBSCRIBE_ATTEMPTS):
            self.subscribe_attempts += 1
            client = pulsar.Client(pulsar_url(self.settings), operation_timeout_seconds=SUBSCRIBE_TIMEOUT_S,
                                   logger=_quiet_logger())
            try:
                _advance_consumer_ids(client, random.randrange(CONSUMER_ID_SPREAD))
                consumer = self._subscribe_on(client)
            except Exception as failure:  # pulsar.Timeout on an id collision; the broker away: try again
                log.info("subscribing to %s as %s failed (%s): again with another consumer id", self.topic,
                         self.subscription, failure)
                error = failure
                client.close()
                continue
            self._client = client
            return consumer
        assert error is not None
        raise error

    def _subscribe_on(self, client):
        import pulsar

        args = self._args
        kwargs = {"consumer_name": args["consumer_name"]} if args["consumer_name"] else {}
        return client.subscribe(
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
        if self.embedded:
            batch = self._without_kicks(batch)
        if batch:
            self._received(batch)
        elif self.embedded:
            self._kick_if_stalled()
        return batch

    def receive(self, timeout_millis: int | None = None):
        """One message (raises pulsar.Timeout after ``timeout_millis``)."""
        deadline = None if timeout_millis is None else time.monotonic() + timeout_millis / 1000
        while True:
            left = None if deadline is None else max(int((deadline - time.monotonic()) * 1000), 1)
            try:
                message = self._consumer.receive(left) if left is not None else self._consumer.receive()
            except Exception:
                if self.embedded:
                    self._kick_if_stalled()
                raise
            if not self.embedded or self._without_kicks([message]):
                break
        self._received([message])
        return message

    def _without_kicks(self, batch: list) -> list:
        """Acknowledge and drop kick messages. They do not count as seen: a kick is the newest entry, and older
        ones may still wait for redelivery."""
        kept = []
        for message in batch:
            if KICK_PROPERTY in message.properties():
                self._consumer.acknowledge(message)
            else:
                kept.append(message)
        return kept

    def _seen(self, message) -> None:
        position = _position(message.message_id())
        if self._highest is None or position > self._highest:
            self._highest = position

    def _received(self, batch: list) -> None:
        self._unacked += len(batch)
        self._last_received_at = time.monotonic()
        self._received_any = True
        if self.embedded:
            for message in batch:
                self._seen(message)
            self._check_delay = STALL_CHECK_INITIAL_S
            self._next_check = 0.0

    def acknowledge(self, message) -> None:
        self._consumer.acknowledge(message)
        self._unacked = max(self._unacked - 1, 0)
        self._last_ack_at = time.monotonic()

    def negative_acknowledge(self, message) -> None:
        self._consumer.negative_acknowledge(message)
        self._unacked = max(self._unacked - 1, 0)
        self._last_ack_at = time.monotonic()

    def get_last_message_id(self):
        return self._consumer.get_last_message_id()

    def close(self) -> None:
        try:
            if self._kick_producer is not None:
                self._kick_producer.close()
            self._consumer.close()
        finally:
            if self._client is not None:
                self._client.close()

    # ---------------------------------------------------------------------------------- embedded broker

    def _kick_if_stalled(self) -> None:
        """Kick a dispatch round when idle, nothing unacknowledged, and the topic holds an unseen entry or this
        consumer received something less than ``KICK_AFTER_ACTIVITY_S`` ago (another may have died meanwhile with
        older entries of its keys unacknowledged)."""
        now = time.monotonic()
        # The client sends acknowledgements in groups (every 100 ms): a round started before they reach the broker
        # finds the keys still in flight and hands over nothing.
        if self._unacked or now < self._next_check or now - self._last_ack_at < ACK_SETTLE_S:
            return
        self._check_delay = min(max(self._check_delay * 2, 0.2), STALL_CHECK_MAX_S)
        self._next_check = now + self._check_delay
        try:
            last = self._consumer.get_last_message_id()
        except Exception as error:  # an empty topic (pulsar-lite answers an error), or the broker is away
            log.debug("last message id of %s unknown: %s", self.topic, error)
            # The client logs each failure (two lines): back off to one a minute. Nothing is owed on an empty
            # topic, and a publish starts a dispatch round by itself.
            self._unknown_last += 1
            self._check_delay = min(STALL_CHECK_MAX_S * 2 ** (self._unknown_last - 1), EMPTY_TOPIC_CHECK_MAX_S)
            self._next_check = now + self._check_delay
            return
        self._unknown_last = 0
        if last.entry_id() < 0:
            return
        if self._held_by_a_dead_consumer(now):
            self._restart_broker(now)
            return
        unseen = self._highest is None or _position(last) > self._highest
        if not unseen and now - self._last_received_at >= KICK_AFTER_ACTIVITY_S:
            return
        if (not self._restart_asked and not self._received_any and self.kicks
                and now - self._last_received_at >= STALL_RESTART_S):
            self._restart_broker(now)
            return
        try:
            self._kick()
        except Exception as error:  # the broker is away: kick again at the next check
            log.debug("kicking %s failed: %s", self.topic, error)
            return
        self.kicks += 1
        log.debug("kicked %s for %s (idle with unseen entries)", self.topic, self.subscription)

    def _held_by_a_dead_consumer(self, now: float) -> bool:
        """Whether the subscription has held handed-out messages without an acknowledgement for ``HELD_STUCK_S``
        while this consumer, which has received before, idles with nothing of its own unacknowledged."""
        idle = now - self._last_received_at
        if self._restart_asked or not self._received_any or not HELD_CHECK_AFTER_S <= idle <= HELD_WATCH_S:
            self._held_since = None
            return False
        from core.embedded import subscription_figures

        figures = subscription_figures(self.settings, self.topic, self.subscription)
        if figures is None or figures[0] <= 0:
            self._held_since = None
            return False
        if self._held_since is None or self._held_since[1] != figures[1]:  # first seen, or acknowledgements moved
            self._held_since = (now, figures[1])
            return False
        if now - self._held_since[0] < HELD_STUCK_S:
            return False
        log.warning("%s/%s: %d messages handed out and not acknowledged for %.0f s while this consumer idles",
                    self.topic, self.subscription, figures[0], now - self._held_since[0])
        return True

    def _restart_broker(self, now: float) -> None:
        from core.embedded import restart_stalled_pulsar

        try:
            # False: not ours to restart, or restarted less than 10 s ago (by another worker): ask again later
            self._restart_asked = restart_stalled_pulsar(self.settings)
        except Exception as error:  # keep kicking
            log.warning("could not restart the embedded broker: %s", error)
        self._last_received_at = now  # the next attempt STALL_RESTART_S from now
        self._held_since = None

    def _kick(self) -> None:
        """Publish one kick: an empty entry under a key of its own, so it delays no stream's messages."""
        if self._kick_producer is None:
            self._kick_producer = get_client(self.settings).create_producer(
                self.topic, batching_enabled=False, send_timeout_millis=5_000)
        self._kick_producer.send(b"", properties={KICK_PROPERTY: self.subscription},
                                 partition_key=f"{KICK_PROPERTY}-{uuid.uuid4().hex[:8]}")


def _position(message_id) -> tuple[int, int]:
    return (message_id.ledger_id(), message_id.entry_id())


def _advance_consumer_ids(client, count: int) -> None:
    """Move ``client``'s consumer-id counter on by ``count`` (see :class:`Consumer`: pulsar-lite's id defect)."""
    import pulsar

    topic = f"non-persistent://public/default/streamscope-consumer-ids-{uuid.uuid4().hex[:8]}"
    for _ in range(count):
        client.subscribe(topic, "advance", consumer_type=pulsar.ConsumerType.Exclusive).close()


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
