"""The fault bench's protocol proxy against the real embedded broker: one topic cut, the others answer."""

from __future__ import annotations

import uuid

import pulsar
import pytest

from tests.e2e.pulsar_proxy import PROXY_THROUGH_SERVICE_URL, encode, fields


def test_protobuf_fields_round_trip() -> None:
    parts = [(1, 0, 24), (24, 2, encode([(1, 2, b"pulsar://127.0.0.1:1"), (4, 0, 300)])), (7, 1, b"\x00" * 8)]
    assert fields(encode(parts)) == parts
    assert fields(encode([(PROXY_THROUGH_SERVICE_URL, 0, 1)])) == [(8, 0, 1)]


def test_a_cut_topic_takes_no_sends_while_another_topic_does(runtime) -> None:
    from tests.e2e.pulsar_proxy import TopicCutProxy

    proxy = TopicCutProxy(runtime.embedded_pulsar_port)
    client = pulsar.Client(proxy.url, operation_timeout_seconds=5)
    tag = uuid.uuid4().hex[:8]
    try:
        kept = client.create_producer(runtime.topic(f"proxy-kept-{tag}"), send_timeout_millis=2000)
        cut = client.create_producer(runtime.topic(f"proxy-cut-{tag}"), send_timeout_millis=2000)
        cut.send(b"before")
        proxy.cut(f"proxy-cut-{tag}")
        kept.send(b"during")  # the other topic, on the same connection, answers
        with pytest.raises(pulsar.Timeout):
            cut.send(b"lost")
        assert proxy.swallowed >= 1
        proxy.restore()
        cut.send(b"after")
        reader = client.create_reader(runtime.topic(f"proxy-cut-{tag}"), pulsar.MessageId.earliest)
        assert [reader.read_next(5000).data() for _ in range(2)] == [b"before", b"after"]
        assert not reader.has_message_available()
    finally:
        client.close()
        proxy.close()
