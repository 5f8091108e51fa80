"""Count fidelity: what the detector counts vs ground truth, per class, at the defaults and over a sweep.

    PYTHONPATH=$PWD python bench/fidelity.py [--periods 1] [--no-vtest] [--sweep 0.25,0.3,0.35,0.4,0.5]
    PYTHONPATH=$PWD python bench/fidelity.py --pipeline walkway[,crossing] [--periods 1]

References:
- the generated scenes (stream_reader/scenes.py: walkway, crossing, traffic, empty), truth computed per frame;
- OpenCV's vtest.avi (Debian ``opencv-doc``, fetched here with ``apt-get download`` + ``dpkg-deb -x`` into
  the data folder; skipped with the reason when that fails), hand-labelled in bench/data/vtest_labels.csv.
``--pipeline``: the real processes at the default settings instead (``streamscope testsrc``'s live HLS stream
of the scene at 10 frames/s, ``streamscope reader`` at 1 frame/s, ``detector``, ``aggregator``, embedded
Postgres and pulsar-lite), compared with the truth lines drawn while the reader ran.
Otherwise frames are sampled at 1 frame/s (the pipeline's default), JPEG-encoded at the reader's quality and decoded
again, run through the real ``Detector`` (yolo11n, CPU) once at a low threshold, and then filtered at each
setting of the sweep and fed to a fresh ByteTrack (the detector's ``StreamTrackers``) per setting, as the
detector service does. Printed per reference and class: mean objects per frame vs truth (error %), unique
tracks vs truth (distinct identities seen), and per frame the rate of classes absent from the scene.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import Settings  # noqa: E402
from stream_reader import scenes  # noqa: E402

# Things people carry or wear: present in the references but not labelled, so neither scored nor "absent".
UNSCORED = frozenset({"tie", "handbag", "backpack", "umbrella", "suitcase", "cell phone", "book"})
VEHICLES = frozenset({"car", "truck", "bus"})
LABELS = ROOT / "bench" / "data" / "vtest_labels.csv"
LATENCY_S = 1.5  # live HLS: from a frame drawn to the reader decoding it


@dataclass
class Reference:
    """Frames of one reference, the truth per frame (class -> count; None = not labelled) and unique truth."""

    name: str
    frames: list[np.ndarray]
    truth: list[dict[str, int] | None]
    unique: dict[str, int] | None
    merge_vehicles: bool = False


def generated(name: str, periods: float, fps: float = 1.0) -> Reference:
    from stream_reader.compose import render

    scene = scenes.get_scene(name)
    times = [i / fps for i in range(int(scene.period_s * periods * fps))]
    truth = [scenes.truth_counts(scene, t) for t in times]
    unique = {cls: int(v["unique"]) for cls, v in scenes.summary(scene, times).items()}
    return Reference(name, [_as_delivered(render(scene, t)) for t in times], truth, unique)


def _as_delivered(image: np.ndarray, quality: int = 85) -> np.ndarray:
    """The frame as the detector gets it: through the reader's JPEG encoding."""
    import cv2

    _ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def vtest_video(data_dir: Path) -> Path:
    """vtest.avi from Debian's opencv-doc package, downloaded and unpacked once (needs apt-get)."""
    target = data_dir / "opencv-doc"
    video = target / "usr/share/doc/opencv-doc/examples/data/vtest.avi"
    if video.exists():
        return video
    work = Path(tempfile.mkdtemp(prefix="opencv-doc-", dir=data_dir))
    subprocess.run(["apt-get", "download", "opencv-doc"], cwd=work, check=True, capture_output=True, timeout=300)
    deb = next(work.glob("opencv-doc_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True, capture_output=True, timeout=300)
    deb.unlink()
    return video


def vtest(data_dir: Path, every: int = 10) -> Reference:
    import cv2

    labels: dict[int, dict[str, int]] = {}
    with LABELS.open() as handle:
        for row in csv.DictReader(line for line in handle if not line.startswith("#")):
            labels.setdefault(int(row["frame"]), {})[row["class"]] = int(row["count"])
    capture = cv2.VideoCapture(str(vtest_video(data_dir)))
    frames, truth, index = [], [], 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if index % every == 0:  # 10 fps sampled at 1 frame/s
            frames.append(_as_delivered(image))
            truth.append(labels.get(index))
        index += 1
    return Reference("vtest", frames, truth, None, merge_vehicles=True)


def detect(references: list[Reference], settings: Settings) -> dict[str, list]:
    """FrameResults of every frame at the lowest threshold of the sweep (filtered per setting later)."""
    from detector.model import Detector

    detector = Detector(settings)
    out = {}
    for ref in references:
        results = []
        for start in range(0, len(ref.frames), 8):
            results.extend(detector.predict(ref.frames[start : start + 8]))
        out[ref.name] = results
    return out, detector.names


def evaluate(ref: Reference, results: list, names: dict[int, str], default: float, rare: float,
             min_track_frames: int | None = None) -> dict:
    """Counts at one setting: occupancy per labelled frame, unique track ids per class, absent-class rate."""
    from detector.thresholds import class_thresholds
    from detector.tracking import StreamTrackers

    per_class = class_thresholds(names, rare)
    lookup = np.array([per_class.get(names[i], default) for i in range(len(names))])
    if min_track_frames is None:
        min_track_frames = Settings().detector_track_min_frames
    trackers = StreamTrackers("bytetrack", min_frames=min_track_frames)
    predicted, truth, absent, track_frames = [], [], {}, {}
    for seq, (frame, result, labels) in enumerate(zip(ref.frames, results, ref.truth, strict=True)):
        keep = result.confidences >= lookup[result.class_ids]
        class_ids = result.class_ids[keep]
        ids = trackers.update(1, "bench", seq, result.boxes[keep], frame)
        counts: dict[str, int] = {}
        for cid, tid in zip(class_ids, ids, strict=True):
            name = names[int(cid)]
            if ref.merge_vehicles and name in VEHICLES:
                name = "vehicle"
            counts[name] = counts.get(name, 0) + 1
            if tid >= 0:
                track_frames.setdefault(name, {}).setdefault(int(tid), 0)
                track_frames[name][int(tid)] += 1
        present = UNSCORED | {c for t in ref.truth if t for c in t}
        for name, n in counts.items():
            if name not in present:
                absent[name] = absent.get(name, 0) + n
        if labels is not None:
            predicted.append(counts)
            truth.append(labels)
    classes = sorted({"person"} | {c for t in truth for c in t})
    occupancy = {}
    for cls in classes:
        p = sum(c.get(cls, 0) for c in predicted) / max(len(predicted), 1)
        t = sum(c.get(cls, 0) for c in truth) / max(len(truth), 1)
        occupancy[cls] = (p, t)
    unique = {cls: len(tracks) for cls, tracks in track_frames.items()}
    frames = len(ref.frames)
    return {"occupancy": occupancy, "unique": unique, "absent": {k: v / frames for k, v in absent.items()},
            "frames": frames, "labelled": len(truth)}


def error(p: float, t: float) -> str:
    return f"{100 * (p - t) / t:+.1f}%" if t else ("0" if not p else "n/a")


def report(ref: Reference, figures: dict, label: str) -> None:
    print(f"  [{label}] {ref.name}: {figures['frames']} frames ({figures['labelled']} labelled)")
    for cls, (p, t) in figures["occupancy"].items():
        line = f"    {cls:10s} occupancy {p:6.3f}/frame vs truth {t:6.3f} ({error(p, t)})"
        if ref.unique is not None and cls in ref.unique:
            u, tu = figures["unique"].get(cls, 0), ref.unique[cls]
            line += f"  unique {u} vs truth {tu} ({error(u, tu)})"
        print(line)
    worst = sorted(figures["absent"].items(), key=lambda kv: -kv[1])
    print("    absent classes per frame: " + (", ".join(f"{k} {v:.3f}" for k, v in worst) or "none"))


def pipeline(name: str, periods: float, work: Path) -> None:
    """One scene through reader -> detector -> aggregator at the defaults; per class vs the truth file."""
    import json
    import time

    from core import embedded
    from core.db.engine import session_scope
    from core.registry import register
    from core.source_policy import SourcePolicy
    from stream_reader.testsrc import LiveHLSSource
    from tests.conftest import runtime_settings
    from tests.e2e.harness import Pipeline, query

    scene = scenes.get_scene(name)
    seconds = scene.period_s * periods
    settings = runtime_settings(work / name / "data")
    embedded.up(settings)
    # The model cache outlives the run (STREAMSCOPE_MODEL_CACHE_DIR, else the data dir's), so the INT8 export is
    # built once, not per scene: built inside a run it took 2 min under load, and the aggregator (idle exit 70 s)
    # had left before the first detection.
    cache = os.environ.get("STREAMSCOPE_MODEL_CACHE_DIR") or str(ROOT / ".streamscope" / "models")
    run = Pipeline(settings, work / name / "logs", overrides={"STREAMSCOPE_WINDOW_SECONDS": "60",
                                                              "STREAMSCOPE_MODEL_CACHE_DIR": cache})
    try:
        with LiveHLSSource(name, fps=10, directory=work / name / "hls") as source:
            with session_scope(settings) as session:
                stream_id = register(session, source.url, name=name, fps=1.0, check=False,
                                     policy=SourcePolicy(allow_local=True)).id  # the stream is on 127.0.0.1
            run.start("detector", "detector", "--idle-exit", "60")  # a loaded machine starts slowly
            run.start("aggregator", "aggregator", "--idle-exit", "120")
            started = time.time()
            run.run("reader", "--stream", str(stream_id), "--duration", str(seconds), timeout=seconds + 120)
            ended = time.time()
            truth_lines = [json.loads(line) for line in source.truth_path.read_text().splitlines()]
        run.wait("detector", 300)
        run.wait("aggregator", 300)
        frames = query(settings, "SELECT coalesce(sum(frames), 0) AS n FROM frame_windows WHERE stream_id = :s",
                       s=stream_id)[0]["n"]
        rows = query(settings, "SELECT object_class, sum(detections) AS d, sum(unique_objects) AS u FROM object_stats "
                               "WHERE stream_id = :s GROUP BY 1 ORDER BY 1", s=stream_id)
        sessions = query(settings, "SELECT extract(epoch FROM started_at) + coalesce(startup_seconds, 0) AS first, "
                                   "extract(epoch FROM last_frame_at) AS last FROM reader_sessions "
                                   "WHERE stream_id = :s ORDER BY started_at", s=stream_id)
    finally:
        run.stop_all()
        embedded.down(settings)
    # Truth at the frames the reader kept: as many instants as frames aggregated, evenly spread from the first
    # frame to the last, each the truth line drawn LATENCY_S before it (one and a half 1-s HLS segments: the
    # reader joins at the live edge). Off by a second either way, the figures move by about 1%.
    first, last = float(sessions[0]["first"]), float(sessions[-1]["last"])
    walls = np.array([r["wall"] for r in truth_lines])
    instants = np.linspace(first, last, max(int(frames), 1)) - LATENCY_S
    span = [truth_lines[int(i)] for i in np.clip(np.searchsorted(walls, instants), 0, len(truth_lines) - 1)]
    true_counts: dict[str, int] = {}
    true_ids: dict[str, set] = {}
    for record in span:
        for obj in record["objects"]:
            if obj["counted"]:
                true_counts[obj["class"]] = true_counts.get(obj["class"], 0) + 1
                true_ids.setdefault(obj["class"], set()).add(obj["id"])
    print(f"  [pipeline, defaults] {name}: {frames} frames aggregated over {ended - started:.0f} s "
          f"(truth at {len(span)} instants from {first - started:.1f} s to {last - started:.1f} s)")
    seen = {row["object_class"]: row for row in rows}
    for cls in sorted(set(seen) | set(true_counts)):
        p = float(seen[cls]["d"]) / max(frames, 1) if cls in seen else 0.0
        t = true_counts.get(cls, 0) / max(len(span), 1)
        u, tu = (int(seen[cls]["u"]) if cls in seen else 0), len(true_ids.get(cls, ()))
        status = "" if cls in true_counts or cls in UNSCORED else "  <- absent from the scene"
        print(f"    {cls:14s} occupancy {p:6.3f}/frame vs truth {t:6.3f} ({error(p, t)})  unique {u} vs truth {tu}"
              f"{status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", type=float, default=1.0, help="Loops of each generated scene.")
    parser.add_argument("--scenes", default=",".join(scenes.SCENES))
    parser.add_argument("--no-vtest", action="store_true")
    parser.add_argument("--sweep", default="0.25,0.3,0.35,0.4,0.5", help="Default thresholds to try.")
    parser.add_argument("--rare-sweep", default="0.5,0.6", help="Rare-class thresholds to try.")
    parser.add_argument("--min-track-frames", type=int, default=None, help="Default: the setting.")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".streamscope")
    parser.add_argument("--pipeline", default="", help="Scenes to run through the real processes instead.")
    args = parser.parse_args()
    if args.pipeline:
        with tempfile.TemporaryDirectory(prefix="fidelity-") as work:
            for name in args.pipeline.split(","):
                pipeline(name, args.periods, Path(work))
        return
    import torch

    torch.set_num_threads(2)
    defaults = Settings()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    references = [generated(name, args.periods) for name in args.scenes.split(",") if name]
    if not args.no_vtest:
        try:
            references.append(vtest(args.data_dir))
        except (OSError, subprocess.SubprocessError, StopIteration) as exc:
            print(f"vtest skipped: {exc}")
    sweep = sorted({float(v) for v in args.sweep.split(",")} | {defaults.detector_confidence})
    rare_sweep = sorted({float(v) for v in args.rare_sweep.split(",")} | {defaults.detector_rare_class_confidence})
    settings = Settings(data_dir=args.data_dir, detector_device="cpu", detector_confidence=min(sweep),
                        detector_rare_class_confidence=min(sweep))
    results, names = detect(references, settings)
    print(f"defaults: confidence {defaults.detector_confidence}, rare classes "
          f"{defaults.detector_rare_class_confidence}, tracker {defaults.detector_tracker}, track ids from frame "
          f"{args.min_track_frames or defaults.detector_track_min_frames}")
    for ref in references:
        report(ref, evaluate(ref, results[ref.name], names, defaults.detector_confidence,
                             defaults.detector_rare_class_confidence, args.min_track_frames), "defaults")
    print("\nsweep (default threshold x rare-class threshold): person occupancy error, unique persons, "
          "worst absent class per frame")
    for conf in sweep:
        for rare in sorted({conf, *rare_sweep}):  # rare == conf: one threshold for every class (no override)
            if rare < conf:
                continue
            cells = []
            for ref in references:
                f = evaluate(ref, results[ref.name], names, conf, rare, args.min_track_frames)
                p, t = f["occupancy"].get("person", (0.0, 0.0))
                worst = max(f["absent"].items(), key=lambda kv: kv[1], default=("-", 0.0))
                unique = ""
                if ref.unique and "person" in ref.unique:
                    unique = f" u{f['unique'].get('person', 0)}/{ref.unique['person']}"
                cells.append(f"{ref.name} {error(p, t)}{unique} {worst[0]} {worst[1]:.3f}")
            print(f"  conf {conf:.2f} rare {rare:.2f}: " + " | ".join(cells))


if __name__ == "__main__":
    main()
