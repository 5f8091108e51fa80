"""The embedded runtime: migrations, and data surviving a restart of each server."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, text

from core import embedded
from core.broker import close_clients, create_producer, send, subscribe
from core.db.engine import dispose_engines, get_engine, session_scope
from core.db.migrate import current, downgrade, upgrade
from core.db.models import Base, Stream
from core.messages import FrameMeta, encode_frame
from tests.conftest import runtime_settings
from tests.test_messages import JPEG, NOW

TABLES = {table.name for table in Base.metadata.sorted_tables}


def test_migrations_go_down_to_nothing_and_up_again(tmp_path) -> None:
    settings = runtime_settings(tmp_path / "data")
    embedded.start_postgres(settings)
    try:
        upgrade(settings)
        assert set(inspect(get_engine(settings)).get_table_names()) >= TABLES
        assert current(settings) is not None
        downgrade(settings, "base")
        dispose_engines()
        assert not TABLES & set(inspect(get_engine(settings)).get_table_names())
        assert current(settings) is None
        upgrade(settings)
        dispose_engines()
        assert set(inspect(get_engine(settings)).get_table_names()) >= TABLES
    finally:
        dispose_engines()
        embedded.stop_postgres(settings)


def test_up_twice_reuses_servers_and_data_survives_down_up(tmp_path) -> None:
    settings = runtime_settings(tmp_path / "data")
    topic = f"restart-{uuid.uuid4().hex[:8]}"
    try:
        first = {s.name: s.pid for s in embedded.up(settings)}
        assert all(first.values())
        assert {s.name: s.pid for s in embedded.up(settings)} == first  # reused, not restarted

        with session_scope(settings) as session:
            session.add(Stream(canonical_id="youtube:dQw4w9WgXcQ", url="u", kind="youtube", name="kept", fps=1))
        # A subscription must exist before the message, or the broker may drop it as unconsumed.
        subscribe(settings, topic, "restart-test").close()
        producer = create_producer(settings, topic, batching=False)
        send(producer, encode_frame(FrameMeta(1, "s", 5, NOW, 8, 8), JPEG))
        producer.close()
        close_clients()

        assert set(embedded.down(settings)) == {"pulsar", "postgres"}
        assert not any(s.running for s in embedded.status(settings))
        with pytest.raises(embedded.RuntimeNotRunning):
            embedded.database_url(settings)

        second = {s.name: s.pid for s in embedded.up(settings)}
        assert second != first
        with session_scope(settings) as session:
            assert session.execute(text("SELECT name FROM streams")).scalars().all() == ["kept"]
        consumer = subscribe(settings, topic, "restart-test")
        message = consumer.receive(timeout_millis=10_000)
        assert message.data() == JPEG
        assert message.properties()["seq"] == "5"
        consumer.acknowledge(message)
        consumer.close()
    finally:
        close_clients()
        embedded.down(settings)


def test_external_urls_start_nothing(tmp_path, runtime) -> None:
    url = embedded.database_url(runtime)
    settings = runtime_settings(tmp_path / "elsewhere", database_url=url, pulsar_url=embedded.pulsar_url(runtime))
    statuses = embedded.up(settings, migrate=False)
    assert [s.mode for s in statuses] == ["external", "external"]
    assert all(s.running for s in statuses)
    assert not (tmp_path / "elsewhere" / "postgres").exists()
    assert embedded.down(settings) == []
