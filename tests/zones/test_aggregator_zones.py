"""Zone counting in the real aggregator (embedded Postgres, pulsar-lite, a subprocess): the rows equal those of
counting the same messages in memory, and a kill -9 in the middle loses and doubles no crossing."""

from __future__ import annotations

from sqlalchemy import text

from aggregator.zones import Definitions, LineDef, ZoneDef
from core import zones
from core.broker import subscribe
from core.db.engine import session_scope
from stream_reader import scenes
from stream_reader.scene_lines import messages_from_truth
from tests.aggregator.helpers import WINDOW_S, AggregatorProcess, publish, register_streams, wait_until
from tests.zones.helpers import PERIODS, SCENE, TRUTH_FPS, records

OCCUPANCY = ("SELECT stream_id, window_start, model, zone_id, zone_version, object_class, window_end, frames, "
             "detections, mean_per_frame, max_per_frame, objects, dwell_seconds FROM zone_occupancy")
CROSSINGS = ("SELECT stream_id, window_start, model, line_id, line_version, object_class, window_end, crossings_in, "
             "crossings_out FROM line_crossings")


def setup_stream(settings) -> tuple[int, Definitions]:
    (stream,) = register_streams(settings, 1)
    with session_scope(settings) as session:
        zone = zones.create(session, stream, "zone", "right half", [list(p) for p in scenes.COUNTING_ZONE])
        line = zones.create(session, stream, "line", "middle", [list(p) for p in scenes.COUNTING_LINE])
        defs = Definitions((ZoneDef(zone.id, 1, zone.name, scenes.COUNTING_ZONE),),
                           (LineDef(line.id, 1, line.name, *scenes.COUNTING_LINE),))
    return stream, defs


def rows(settings, stream: int) -> tuple[set, set]:
    with session_scope(settings) as session:
        return tuple({tuple(r) for r in session.execute(text(sql + " WHERE stream_id = :s"), {"s": stream})}
                     for sql in (OCCUPANCY, CROSSINGS))  # type: ignore[return-value]


def reference(messages, defs: Definitions) -> tuple[set, set]:
    from aggregator.zones import ZoneMachine

    machine = ZoneMachine(WINDOW_S)
    machine.restore(messages[0].stream_id, None)
    machine.set_definitions(messages[0].stream_id, defs)
    for message in messages:
        machine.add(message)
    flush = machine.take([(messages[0].stream_id, messages[-1].capture_time)])
    as_tuple = lambda r: tuple(getattr(r, n) for n in r.__slots__)  # noqa: E731
    return {as_tuple(r) for r in flush.occupancy}, {as_tuple(r) for r in flush.crossings}


def test_kill_9_of_the_aggregator_loses_and_doubles_no_crossing(settings, unique_topic, tmp_path) -> None:
    stream, defs = setup_stream(settings)
    messages = messages_from_truth(records(), TRUTH_FPS // 5, SCENE.width, SCENE.height, stream_id=stream)
    first, second = messages[: len(messages) * 3 // 5], messages[len(messages) * 3 // 5:]
    subscribe(settings, unique_topic, "agg").close()
    publish(settings, unique_topic, first)
    victim = AggregatorProcess(settings, unique_topic, "agg", tmp_path, idle_exit=None)

    def crossed() -> int:
        return sum(r[7] + r[8] for r in rows(settings, stream)[1])

    wait_until(lambda: crossed() >= 4, 90, "the first crossings written")
    victim.kill()  # wherever it is: mid-batch, between batches
    before = crossed()
    publish(settings, unique_topic, second)
    summary = AggregatorProcess(settings, unique_topic, "agg", tmp_path, idle_exit=2.0).wait(120)
    assert summary["counted"] > 0
    occupancy, crossings = rows(settings, stream)
    expected_occupancy, expected_crossings = reference(messages, defs)
    assert crossings == expected_crossings, (sorted(crossings ^ expected_crossings))
    assert occupancy == expected_occupancy, (sorted(occupancy ^ expected_occupancy)[:6])
    totals = (sum(r[7] for r in crossings), sum(r[8] for r in crossings))
    assert totals == (scenes.COUNTING_TRUTH["in"] * PERIODS, scenes.COUNTING_TRUTH["out"] * PERIODS)
    assert 4 <= before < sum(totals)
    with session_scope(settings) as session:
        state = session.execute(text("SELECT state FROM aggregator_zone_state WHERE stream_id = :s"),
                                {"s": stream}).scalar_one()
    assert state["windows"] == {} and state["tracks"]  # every window written; recent tracks kept
