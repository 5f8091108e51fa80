"""The stream registry against the real embedded Postgres, with yt-dlp resolving a real local live stream."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import registry
from core.db.models import Stream, StreamStatus
from core.source_policy import SourcePolicy
from stream_reader.testsrc import LiveHLSSource
from tests.conftest import free_port
from tests.test_stream_urls import REFUSED


@pytest.fixture(scope="module")
def live_source():
    with LiveHLSSource("bus", width=640, height=360, fps=10) as source:
        yield source


LOCAL = SourcePolicy(allow_local=True)  # the live source is on 127.0.0.1


def count_streams(session) -> int:
    return session.scalar(select(func.count()).select_from(Stream))


def test_register_resolves_a_live_hls_stream_and_round_trips(db_session, clean_tables, live_source) -> None:
    stream = registry.register(db_session, live_source.url, name="bus cam", fps=2, policy=LOCAL)
    db_session.commit()
    assert stream.canonical_id == f"hls:{live_source.url}"
    assert stream.is_live is True
    assert (stream.name, stream.fps, stream.status) == ("bus cam", 2.0, StreamStatus.PENDING)

    listed, total = registry.list_streams(db_session)
    assert total == 1 and listed[0].id == stream.id
    assert registry.pause(db_session, stream.id).status == StreamStatus.PAUSED
    assert registry.active_streams(db_session) == []
    assert registry.resume(db_session, stream.id).status == StreamStatus.PENDING
    assert registry.update(db_session, stream.id, name="renamed", fps=0.5).fps == 0.5
    db_session.commit()
    assert [s.name for s in registry.active_streams(db_session)] == ["renamed"]

    with pytest.raises(registry.DuplicateStream, match="already registered"):
        registry.register(db_session, live_source.url + "#again", check=False, policy=LOCAL)
    registry.remove(db_session, stream.id)
    db_session.commit()
    assert count_streams(db_session) == 0
    with pytest.raises(registry.StreamNotFound):
        registry.get(db_session, stream.id)


@pytest.mark.parametrize(("raw", "reason"), REFUSED)
def test_refused_inputs_write_nothing(db_session, clean_tables, raw: str, reason: str) -> None:
    with pytest.raises(registry.InvalidInput) as refused:
        registry.register(db_session, raw, check=True)
    assert refused.value.field == "url"
    assert reason.lower() in refused.value.reason.lower()
    db_session.rollback()
    assert count_streams(db_session) == 0


def test_unreachable_and_non_video_urls_are_refused_with_the_cause(db_session, clean_tables, tmp_path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/live.m3u8"
    with pytest.raises(registry.InvalidInput, match="cannot read this stream") as refused:
        registry.register(db_session, dead, timeout_s=5, policy=LOCAL)
    assert "refused" in refused.value.reason.lower() or "connect" in refused.value.reason.lower()
    with pytest.raises(registry.InvalidInput, match="no such file"):
        registry.register(db_session, f"file://{tmp_path}/missing.mp4", policy=LOCAL)
    db_session.rollback()
    assert count_streams(db_session) == 0


@pytest.mark.parametrize(
    ("name", "fps", "field"),
    [("", None, "name"), ("x" * 201, None, "name"), ("ok", 0, "fps"), ("ok", 31, "fps"), ("ok", float("nan"), "fps")],
)
def test_bad_names_and_rates_are_refused(db_session, clean_tables, name, fps, field) -> None:
    with pytest.raises(registry.InvalidInput) as refused:
        registry.register(db_session, "dQw4w9WgXcQ", name=name, fps=fps, check=False)
    assert refused.value.field == field
    db_session.rollback()
    assert count_streams(db_session) == 0
