"""The counting scene's truth and a zone machine fed with truth tracks (what a perfect detector would send)."""

from __future__ import annotations

from functools import lru_cache

from aggregator.zones import Definitions, LineDef, ZoneDef, ZoneFlush, ZoneMachine
from core.messages import DetectionMessage
from stream_reader import scenes
from stream_reader.scene_lines import messages_from_truth

SCENE = scenes.get_scene("counting")
TRUTH_FPS = 10
PERIODS = 3
ZONE = ZoneDef(1, 1, "right half", scenes.COUNTING_ZONE)
LINE = LineDef(2, 1, "middle", *scenes.COUNTING_LINE)
DEFS = Definitions((ZONE,), (LINE,))


@lru_cache(maxsize=1)
def records() -> tuple[dict, ...]:
    frames = round(PERIODS * SCENE.period_s * TRUTH_FPS)
    return tuple(scenes.truth_record(SCENE, f, TRUTH_FPS) for f in range(frames))


def sampled(fps: float, phase: int = 0) -> list[DetectionMessage]:
    return messages_from_truth(records(), round(TRUTH_FPS / fps), SCENE.width, SCENE.height, phase=phase)


def count(messages: list[DetectionMessage], window_s: float = 60.0) -> ZoneFlush:
    machine = ZoneMachine(window_s)
    machine.restore(1, None)
    machine.set_definitions(1, DEFS)
    for message in messages:
        machine.add(message)
    return machine.take([(1, messages[-1].capture_time)])


def totals(flush: ZoneFlush) -> dict[str, float]:
    frames = {(r.window_start, r.model): r.frames for r in flush.occupancy}
    return {
        "in": sum(r.crossings_in for r in flush.crossings),
        "out": sum(r.crossings_out for r in flush.crossings),
        "zone_detections": sum(r.detections for r in flush.occupancy),
        "frames_with_someone": sum(frames.values()),
    }
