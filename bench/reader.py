"""CPU cost of reading one 720p30 live stream at 1 frame/s: the reader against a naive read-everything loop.

    PYTHONPATH=. python bench/reader.py [--seconds 30] [--rounds 3] [--warmup 5] [--keyframe-every 1]

A live HLS stream (``streamscope testsrc --scene bus``, 1280x720, 30 frames/s, libx264, a keyframe at the start
of each segment, ``--keyframe-every`` seconds long; YouTube live uses 2 s) runs in a process of its own; each
variant then reads it in a fresh child process, and the child's own CPU time (user + system, all its threads;
``resource.getrusage(RUSAGE_SELF)``) is measured over ``--seconds``, starting ``--warmup`` seconds after its
first frame (imports, connecting and learning the keyframe interval left out). Variants take turns for
``--rounds`` rounds and medians are printed, since other work on a small machine disturbs single runs. The
ffmpeg encoder of the source is another process and never counted.

Variants:
  reader        the real reader (``ReaderRunner``): yt-dlp, PyAV reading packets and decoding only the frames
                that lead to a kept one (``KeyframeGate``), one decoding thread, JPEG, Pulsar publishing, health
                rows in Postgres (embedded servers in a temp dir)
  decode-all    the reader's capture (PyAV, one thread) decoding every frame, JPEG one per second: what the
                gate saves
  opencv-grab   OpenCV grab() of every frame (it decodes; no colour conversion), retrieve() + JPEG one per
                second, one decoding thread: the reader's capture before it moved to PyAV
  naive-read    OpenCV read() (decode + BGR conversion) of every frame, JPEG one per second, default threads
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("reader", "decode-all", "opencv-grab", "naive-read")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ------------------------------------------------------------------------------------------------ children


class Window:
    """The measured interval: starts ``warmup`` seconds after the first frame, ends ``seconds`` later."""

    def __init__(self, warmup: float, seconds: float):
        self.warmup, self.seconds = warmup, seconds
        self.start_at = self.end_at = float("inf")
        self.cpu0: float | None = None
        self.t0 = 0.0
        self.frames0 = self.kept0 = 0
        self.result: dict | None = None

    def tick(self, frames: int, kept: int) -> bool:
        """Call per frame; returns False once the window is over."""
        now = time.monotonic()
        if frames and self.start_at == float("inf"):
            self.start_at = now + self.warmup
            self.end_at = self.start_at + self.seconds
        if self.cpu0 is None and now >= self.start_at:
            self.cpu0, self.t0, self.frames0, self.kept0 = cpu_seconds(), now, frames, kept
        if now >= self.end_at and self.cpu0 is not None:
            elapsed = now - self.t0
            self.result = dict(cpu_s=cpu_seconds() - self.cpu0, wall_s=elapsed, read=frames - self.frames0,
                               decoded=frames - self.frames0, kept=kept - self.kept0)
            return False
        return True


def child_loop(variant: str, url: str, window: Window) -> dict:
    import cv2

    from stream_reader.capture import Capture, encode_jpeg

    frames = kept = 0
    next_keep = time.monotonic()
    if variant == "decode-all":
        capture = Capture(url, open_timeout_s=10, read_timeout_s=10, threads=1)
        while window.tick(frames, kept):
            if not capture.read().ok:
                raise RuntimeError("the stream stopped")
            for frame in capture.decode():
                frames += 1
                if time.monotonic() >= next_keep:
                    next_keep += 1.0
                    encode_jpeg(frame.image(), 1280, 85)
                    kept += 1
        capture.release()
    elif variant in ("opencv-grab", "naive-read"):
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 10000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 10000]
        if variant == "opencv-grab":
            params += [cv2.CAP_PROP_N_THREADS, 1]
        cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
        while window.tick(frames, kept):
            ok, image = cap.read() if variant == "naive-read" else (cap.grab(), None)
            if not ok:
                raise RuntimeError("the stream stopped")
            frames += 1
            if time.monotonic() >= next_keep:
                next_keep += 1.0
                encode_jpeg(image if image is not None else cap.retrieve()[1], 1280, 85)
                kept += 1
        cap.release()
    return window.result or {}


def child_reader(stream_id: int, warmup: float, seconds: float) -> dict:
    """The real reader in a thread; the window starts and ends right after the reader adds its per-frame
    counts to the metrics (it does so every health interval), so the counts match the CPU interval."""
    from core.settings import get_settings
    from stream_reader import metrics
    from stream_reader.runner import ReaderRunner

    runner = ReaderRunner(get_settings(), [stream_id])
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    label = str(stream_id)

    def counts() -> tuple[int, int, int]:
        return (int(metrics.FRAMES_READ.labels(label)._value.get()),
                int(metrics.FRAMES_DECODED.labels(label)._value.get()),
                int(metrics.FRAMES_PUBLISHED.labels(label)._value.get()))

    def after_next_flush() -> tuple[float, float, tuple[int, int, int]]:
        before = counts()[0]
        while counts()[0] == before:
            time.sleep(0.05)
        return cpu_seconds(), time.monotonic(), counts()

    while counts()[0] == 0:
        time.sleep(0.05)
    time.sleep(warmup)
    cpu0, t0, (read0, decoded0, kept0) = after_next_flush()
    time.sleep(max(0.0, seconds - 1.0))
    cpu1, t1, (read1, decoded1, kept1) = after_next_flush()
    runner.stop()
    thread.join(60)
    return dict(cpu_s=cpu1 - cpu0, wall_s=t1 - t0, read=read1 - read0, decoded=decoded1 - decoded0,
                kept=kept1 - kept0)


def run_child(args: argparse.Namespace) -> None:
    if args.child == "reader":
        result = child_reader(args.stream_id, args.warmup, args.seconds)
    else:
        result = child_loop(args.child, args.url, Window(args.warmup, args.seconds))
    print(json.dumps(result), flush=True)


# -------------------------------------------------------------------------------------------------- parent


def start_source(keyframe_every: float = 1.0) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    source = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "testsrc", "--scene", "bus", "--width", "1280", "--height", "720",
         "--fps", "30", "--segment-seconds", str(keyframe_every)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = source.stdout.readline().strip()
    if not url.startswith("http"):
        source.kill()
        raise SystemExit("the test source did not start")
    return source, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per variant and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (variants interleaved); medians are shown")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after the first frame before measuring")
    parser.add_argument("--keyframe-every", type=float, default=1.0,
                        help="the source's keyframe interval and HLS segment length in seconds")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--stream-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return

    sys.path.insert(0, str(REPO))
    from core import embedded
    from core.db.engine import session_scope
    from core.registry import register
    from core.settings import Settings
    from core.source_policy import SourcePolicy

    variants = [v for v in args.variants.split(",") if v]
    data_dir = Path(tempfile.mkdtemp(prefix="streamscope-bench-reader-"))
    settings = Settings(data_dir=data_dir / "data", embedded_pulsar_port=free_port(), database_url="", pulsar_url="")
    source, url = start_source(args.keyframe_every)
    embedded.up(settings)
    python_path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STREAMSCOPE_")}, "PYTHONPATH": python_path,
           "STREAMSCOPE_DATA_DIR": str(settings.data_dir),
           "STREAMSCOPE_EMBEDDED_PULSAR_PORT": str(settings.embedded_pulsar_port),
           "STREAMSCOPE_FRAMES_TOPIC": "bench-frames", "STREAMSCOPE_READER_METRICS_PORT": "0",
           "STREAMSCOPE_ALLOW_LOCAL_SOURCES": "true"}  # the benchmark's stream is on 127.0.0.1
    results: dict[str, list[dict]] = {}
    try:
        with session_scope(settings) as session:
            stream_id = register(session, url, fps=1.0, check=False, policy=SourcePolicy(allow_local=True)).id
        for round_number in range(args.rounds):
            for variant in variants:
                done = subprocess.run(
                    [sys.executable, __file__, "--child", variant, "--url", url, "--stream-id", str(stream_id),
                     "--seconds", str(args.seconds), "--warmup", str(args.warmup)],
                    env=env, cwd=REPO, capture_output=True, text=True,
                    timeout=args.seconds + args.warmup + 180)
                lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
                if done.returncode != 0 or not lines:
                    print(f"{variant} (round {round_number + 1}): failed\n{done.stderr[-2000:]}")
                    continue
                results.setdefault(variant, []).append(json.loads(lines[-1]))
    finally:
        source.terminate()
        source.wait(20)
        from core.broker import close_clients

        close_clients()
        embedded.down(settings)

    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load "
          f"average {os.getloadavg()[0]:.1f}; source 1280x720 30 frames/s H.264 (testsrc bus), a keyframe every "
          f"{args.keyframe_every:g} s, sampled at 1 frame/s; {args.rounds} rounds of {args.seconds:g} s per variant "
          "(median, min-max)")
    print(f"{'variant':12} {'read/s':>7} {'decoded/s':>9} {'kept/s':>7} {'CPU s per stream-min':>21} "
          f"{'% of a core':>12}  range")
    cost: dict[str, float] = {}
    starved = []
    for variant, runs in results.items():
        shares = sorted(r["cpu_s"] / r["wall_s"] for r in runs)
        cost[variant] = statistics.median(shares)
        read, decoded, kept = (statistics.median(r[key] / r["wall_s"] for r in runs)
                               for key in ("read", "decoded", "kept"))
        print(f"{variant:12} {read:7.1f} {decoded:9.1f} {kept:7.2f} {cost[variant] * 60:21.2f} "
              f"{cost[variant] * 100:11.2f}%  {shares[0] * 100:.2f}-{shares[-1] * 100:.2f}%")
        if read < 28.5:
            starved.append(variant)
    if starved:
        print(f"warning: {', '.join(starved)} read fewer than 30 frames/s: the machine was too busy for the "
              "source or the reader to keep up, so these figures are too low; run again on a quieter machine")
    if "reader" in cost:
        for variant in ("naive-read", "opencv-grab", "decode-all"):
            if variant in cost:
                print(f"ratio {variant} / reader: {cost[variant] / cost['reader']:.2f}")


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.path.insert(0, str(REPO))
    main()
