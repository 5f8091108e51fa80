"""Zone and line counts against ground truth: the counting scene through the real detector and tracker.

    PYTHONPATH=$PWD python bench/zones.py [--fps 5,1] [--periods 1] [--truth-only]
    PYTHONPATH=$PWD python bench/zones.py --pipeline [--fps 5] [--periods 1]
    PYTHONPATH=$PWD python bench/zones.py --throughput

For each sampling rate the counting scene (stream_reader/scenes.py: 4 crossings in and 4 out per 100 s period,
one lingering on the line, one fast, two side by side, one turning back) is rendered, JPEG-encoded and decoded as
the reader and detector do, run through the real ``Detector`` (default backend, yolo11n) and ``StreamTrackers``
(ByteTrack, ids from the 3rd sighting), turned into the detections contract by the detector service's own
``build_message``, and counted by the aggregator's ``ZoneMachine`` (anchor bottom centre, band 0.01). Printed:
crossings in/out vs truth, zone occupancy vs truth (error %), and the same on truth tracks (a perfect detector)
at every sampling phase. ``--pipeline``: the real processes instead (``testsrc``'s live HLS stream of the scene at
10 frames/s, ``reader`` at the given rate, ``detector``, ``aggregator`` with the zone and line stored through
``core.zones``; embedded Postgres and pulsar-lite), compared with the truth lines drawn while the reader ran.
Figures: docs/benchmarks/zones.md.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator.zones import Definitions, LineDef, ZoneDef, ZoneFlush, ZoneMachine  # noqa: E402
from core.messages import DetectionMessage  # noqa: E402
from core.settings import Settings  # noqa: E402
from stream_reader import scenes  # noqa: E402
from stream_reader.scene_lines import messages_from_truth, truth_crossings, truth_occupancy  # noqa: E402

SCENE = scenes.get_scene("counting")
DEFS = Definitions((ZoneDef(1, 1, "right half", scenes.COUNTING_ZONE),),
                   (LineDef(2, 1, "middle", *scenes.COUNTING_LINE),))
TRUTH_FPS = 10
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def truth(periods: float) -> tuple[list[dict], dict[str, int], float]:
    records = [scenes.truth_record(SCENE, f, TRUTH_FPS) for f in range(round(periods * SCENE.period_s * TRUTH_FPS))]
    return (records, truth_crossings(records, scenes.COUNTING_LINE, SCENE.width, SCENE.height),
            truth_occupancy(records, scenes.COUNTING_ZONE, SCENE.width, SCENE.height))


def count(messages: list[DetectionMessage], settings: Settings | None = None) -> dict[str, float]:
    """Crossings in/out and mean objects per frame in the zone (persons), as the aggregator counts them."""
    settings = settings or Settings()
    machine = ZoneMachine(60, band=settings.zone_line_band, track_ttl_s=settings.zone_track_ttl_s)
    machine.restore(1, None)
    machine.set_definitions(1, DEFS)
    for message in messages:
        machine.add(message)
    flush: ZoneFlush = machine.take([(1, messages[-1].capture_time)])
    persons = [r for r in flush.occupancy if r.object_class == "person"]
    return {
        "in": sum(r.crossings_in for r in flush.crossings if r.object_class == "person"),
        "out": sum(r.crossings_out for r in flush.crossings if r.object_class == "person"),
        "occupancy": sum(r.detections for r in persons) / len(messages),
    }


def detected_messages(fps: float, periods: float, settings: Settings | None = None,
                      offset_s: float = 0.0) -> list[DetectionMessage]:
    """The detections a real detector process would publish for the scene sampled at ``fps``, from ``offset_s``
    into it (a sampling phase: where the samples fall relative to the walkers decides what a tracker sees)."""
    import cv2

    from core.messages import Frame, FrameMeta
    from detector.frames import DecodedFrame
    from detector.model import Detector
    from detector.service import build_message
    from detector.tracking import StreamTrackers
    from stream_reader.compose import render

    settings = settings or Settings()
    detector = Detector(settings)
    trackers = StreamTrackers(settings.detector_tracker, min_frames=settings.detector_track_min_frames)
    session = uuid.uuid4().hex
    frames = round(periods * SCENE.period_s * fps)
    out = []
    for start in range(0, frames, 8):
        batch = []
        for seq in range(start, min(frames, start + 8)):
            _ok, jpeg = cv2.imencode(".jpg", render(SCENE, offset_s + seq / fps), [cv2.IMWRITE_JPEG_QUALITY, 85])
            image = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
            meta = FrameMeta(stream_id=1, session_id=session, seq=seq, width=SCENE.width, height=SCENE.height,
                             capture_time=START + timedelta(seconds=offset_s + seq / fps))
            batch.append(DecodedFrame(Frame(meta, jpeg.tobytes()), image, 1))
        results = detector.predict([frame.image for frame in batch])
        for frame, result in zip(batch, results, strict=True):
            meta = frame.frame.meta
            ids = trackers.update(meta.stream_id, meta.session_id, meta.seq, result.boxes, frame.image,
                                 meta.capture_time)
            out.append(build_message(frame, result, ids, detector.names, detector.name, detector.weights.sha256, 0.0))
    return out


LATENCY_S = 1.5  # live HLS: from a frame drawn to the reader decoding it (as bench/fidelity.py)


def _wait_for_log(run, name: str, line: str, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while line not in run.log(name):
        if time.monotonic() > deadline or run.processes[name].poll() is not None:
            raise RuntimeError(f"{name} did not start:\n{run.log(name)[-3000:]}")
        time.sleep(0.5)


def pipeline(fps: float, periods: float, work: Path) -> dict:
    """The scene through reader -> detector -> aggregator; crossings and occupancy vs the truth of the span read."""
    import json

    from core import embedded, zones
    from core.db.engine import session_scope
    from core.registry import register
    from core.source_policy import SourcePolicy
    from stream_reader.testsrc import LiveHLSSource
    from tests.conftest import runtime_settings
    from tests.e2e.harness import Pipeline, query

    seconds = SCENE.period_s * periods + 5
    settings = runtime_settings(work / "data")
    embedded.up(settings)
    # The model cache of this machine (an OpenVINO INT8 export takes a minute, more on a loaded machine).
    run = Pipeline(settings, work / "logs", overrides={"STREAMSCOPE_MODEL_CACHE_DIR": str(Settings().models_dir)})
    try:
        with LiveHLSSource("counting", fps=10, directory=work / "hls") as source:
            with session_scope(settings) as session:
                stream_id = register(session, source.url, name="counting", fps=fps, check=False,
                                     policy=SourcePolicy(allow_local=True)).id  # the stream is on 127.0.0.1
                zones.create(session, stream_id, "line", "middle", [list(p) for p in scenes.COUNTING_LINE])
                zones.create(session, stream_id, "zone", "right half", [list(p) for p in scenes.COUNTING_ZONE])
            run.start("detector", "detector", "--idle-exit", "60")
            _wait_for_log(run, "detector", "detector consuming")  # model loaded (or exported) and subscribed
            run.start("aggregator", "aggregator", "--idle-exit", "60")
            _wait_for_log(run, "aggregator", "aggregator consuming")  # subscribed before the first detection
            run.run("reader", "--stream", str(stream_id), "--duration", str(seconds), timeout=seconds + 120)
            truth_lines = [json.loads(line) for line in source.truth_path.read_text().splitlines()]
        run.wait("detector", 400)
        run.wait("aggregator", 400)
        frames = int(query(settings, "SELECT coalesce(sum(frames), 0) AS n FROM frame_windows WHERE stream_id = :s",
                           s=stream_id)[0]["n"])
        crossed = query(settings, "SELECT coalesce(sum(crossings_in), 0) AS i, coalesce(sum(crossings_out), 0) AS o "
                                  "FROM line_crossings WHERE stream_id = :s AND object_class = 'person'",
                        s=stream_id)[0]
        inside = query(settings, "SELECT coalesce(sum(detections), 0) AS d FROM zone_occupancy WHERE stream_id = :s "
                                 "AND object_class = 'person'", s=stream_id)[0]["d"]
        session_row = query(settings, "SELECT extract(epoch FROM min(started_at)) AS first, "
                                      "extract(epoch FROM max(last_frame_at)) AS last FROM reader_sessions "
                                      "WHERE stream_id = :s", s=stream_id)[0]
    finally:
        run.stop_all()
        embedded.down(settings)
    first, last = float(session_row["first"]) - LATENCY_S, float(session_row["last"]) - LATENCY_S
    span = [r for r in truth_lines if first <= r["wall"] <= last]
    crossings = truth_crossings(span, scenes.COUNTING_LINE, SCENE.width, SCENE.height)
    occupancy = truth_occupancy(span, scenes.COUNTING_ZONE, SCENE.width, SCENE.height)
    return {"frames": frames, "in": int(crossed["i"]), "out": int(crossed["o"]), "truth_in": crossings["in"],
            "truth_out": crossings["out"], "occupancy": float(inside) / max(frames, 1), "truth_occupancy": occupancy,
            "seconds": last - first}


def throughput(rounds: int = 5) -> None:
    """Messages per second through ZoneMachine.add (the counting scene's truth tracks at 5 frames/s, one zone and
    one line), against the same messages with no zones defined (the cost every zone-less stream pays)."""
    records, _crossings, _occupancy = truth(3)
    messages = messages_from_truth(records, 2, SCENE.width, SCENE.height)
    detections = sum(len(m.detections) for m in messages)
    for label, defs in (("1 zone + 1 line", DEFS), ("no zones", Definitions())):
        rates = []
        for _ in range(rounds):
            machine = ZoneMachine(60)
            machine.restore(1, None)
            machine.set_definitions(1, defs)
            started = time.perf_counter()
            for message in messages:
                machine.add(message)
            rates.append(len(messages) / (time.perf_counter() - started))
        rates.sort()
        per_message = detections / len(messages)
        print(f"  {label}: {rates[len(rates) // 2]:,.0f} messages/s median of {rounds} ({per_message:.1f} "
              f"detections per message, {len(messages)} messages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", default="5,1")
    parser.add_argument("--periods", type=float, default=1.0)
    parser.add_argument("--truth-only", action="store_true", help="Only the truth tracks (no detector).")
    parser.add_argument("--detector-phases", type=int, default=1,
                        help="Sampling phases run through the real detector (spread over one sampling interval).")
    parser.add_argument("--pipeline", action="store_true", help="The real processes on a live stream of the scene.")
    parser.add_argument("--throughput", action="store_true", help="Messages/s through the zone machine.")
    args = parser.parse_args()
    if args.throughput:
        throughput()
        return
    if args.pipeline:
        import tempfile

        for fps in (float(v) for v in args.fps.split(",")):
            with tempfile.TemporaryDirectory(prefix="zones-bench-") as work:
                got = pipeline(fps, args.periods, Path(work))
            print(f"  [pipeline] {fps:g} frame/s, {got['frames']} frames over {got['seconds']:.0f} s: in {got['in']} "
                  f"(truth {got['truth_in']}), out {got['out']} (truth {got['truth_out']}), occupancy "
                  f"{got['occupancy']:.3f} vs truth {got['truth_occupancy']:.3f}")
        return
    records, crossings, occupancy = truth(args.periods)
    print(f"counting scene, {args.periods:g} period(s) of {SCENE.period_s:g} s: truth in {crossings['in']}, "
          f"out {crossings['out']}, zone occupancy {occupancy:.3f} per frame")
    for fps in (float(v) for v in args.fps.split(",")):
        every = round(TRUTH_FPS / fps)
        phases = [count(messages_from_truth(records, every, SCENE.width, SCENE.height, phase=p))
                  for p in range(every)]
        worst = max(abs(c["in"] - crossings["in"]) + abs(c["out"] - crossings["out"]) for c in phases)
        occ = [c["occupancy"] for c in phases]
        print(f"  {fps:g} frame/s, truth tracks, {every} sampling phases: crossings off by at most {worst}; "
              f"occupancy {min(occ):.3f}..{max(occ):.3f} ({100 * (min(occ) - occupancy) / occupancy:+.1f}% .. "
              f"{100 * (max(occ) - occupancy) / occupancy:+.1f}%)")
        if args.truth_only:
            continue
        results = []
        for phase in range(args.detector_phases):
            started = time.perf_counter()
            offset = phase / (args.detector_phases * fps)
            got = count(detected_messages(fps, args.periods, offset_s=offset))
            results.append(got)
            print(f"  {fps:g} frame/s, real detector + tracker, from {offset:.2f} s: in {got['in']} (truth "
                  f"{crossings['in']}), out {got['out']} (truth {crossings['out']}), occupancy "
                  f"{got['occupancy']:.3f} ({100 * (got['occupancy'] - occupancy) / occupancy:+.1f}%)  "
                  f"[{time.perf_counter() - started:.0f} s]")
        if len(results) > 1:
            exact = sum(r["in"] == crossings["in"] and r["out"] == crossings["out"] for r in results)
            over = sum(r["in"] > crossings["in"] or r["out"] > crossings["out"] for r in results)
            print(f"  {fps:g} frame/s, real detector + tracker: exact in {exact} of {len(results)} phases, over truth "
                  f"in {over}; in {min(r['in'] for r in results)}..{max(r['in'] for r in results)}, out "
                  f"{min(r['out'] for r in results)}..{max(r['out'] for r in results)}")

if __name__ == "__main__":
    main()
