"""What the multi-host test runs on a reader host: replay recorded frames, or log the detections as they come.

    python -m tests.scaleout.agent replay FRAMES_FILE --rounds-per-second 1
    python -m tests.scaleout.agent probe OUT_FILE

Both take the broker URL and topics from the ``STREAMSCOPE_`` settings, like every component.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.broker import create_producer, send, subscribe
from core.messages import FrameMeta, decode_detections, encode_frame
from core.settings import Settings

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def replay(frames_file: Path, rounds_per_second: float) -> None:
    """Publish the recorded frames one round (every stream's next frame) at a time, at a live-like pace."""
    settings = Settings()
    frames = pickle.loads(frames_file.read_bytes())  # [(stream_id, seq, jpeg, width, height)], in seq order
    producer = create_producer(settings, settings.frames_topic)
    rounds: dict[int, list] = {}
    for frame in frames:
        rounds.setdefault(frame[1], []).append(frame)
    started = time.monotonic()
    for n, seq in enumerate(sorted(rounds)):
        time.sleep(max(0.0, started + n / rounds_per_second - time.monotonic()))
        for stream_id, seq_, data, width, height in rounds[seq]:
            meta = FrameMeta(stream_id, "recorded", seq_, T0 + timedelta(seconds=seq_), width, height)
            send(producer, encode_frame(meta, data), callback=lambda *_: None)
        producer.flush()
        print(json.dumps({"published_round": seq, "t": time.time()}), flush=True)
    producer.close()
    print(json.dumps({"replayed": len(frames)}), flush=True)


def probe(out_file: Path) -> None:
    """Append one line per detection message: stream, sequence, arrival time (until killed)."""
    settings = Settings()
    consumer = subscribe(settings, settings.detections_topic, "scaleout-probe", batch_timeout_ms=50)
    print("probe ready", flush=True)
    with open(out_file, "a") as out:
        while True:
            batch = consumer.batch_receive()
            now = time.time()
            for message in batch:
                detection = decode_detections(message.data())
                out.write(json.dumps({"stream": detection.stream_id, "seq": detection.seq, "t": now}) + "\n")
                consumer.acknowledge(message)
            out.flush()


if __name__ == "__main__":
    if sys.argv[1] == "replay":
        replay(Path(sys.argv[2]), float(sys.argv[3]))
    elif sys.argv[1] == "probe":
        probe(Path(sys.argv[2]))
    else:
        raise SystemExit(f"unknown command {sys.argv[1]!r}")
