"""``streamscope detector``: run the detector worker (heavy imports happen only when it runs)."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("detector")(detector)


def detector(
    idle_exit: Annotated[
        float | None, typer.Option("--idle-exit", help="Exit after this many seconds without frames.")
    ] = None,
    max_frames: Annotated[int | None, typer.Option("--max-frames", help="Exit after this many frames.")] = None,
    subscription: Annotated[str | None, typer.Option(help="Subscription on the frames topic.")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda:0, ... (default: settings).")] = None,
    backend: Annotated[str | None, typer.Option(help="auto, torch, onnx, openvino or engine.")] = None,
    precision: Annotated[str | None, typer.Option(help="auto, fp32, fp16 (GPU) or int8 (openvino).")] = None,
    imgsz: Annotated[int | None, typer.Option(help="Model input size (long side).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Frames per inference batch.")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch; 0 = all cores.")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Prometheus port; 0 = off.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's figures as JSON at exit.")] = False,
) -> None:
    """Detect objects in the frames topic and publish one detection message per frame."""
    from core.embedded import RuntimeNotRunning
    from core.settings import get_settings

    overrides = {
        "detector_device": device, "detector_backend": backend, "detector_precision": precision,
        "detector_imgsz": imgsz, "detector_batch_size": batch_size,
        "detector_threads": threads, "detector_metrics_port": metrics_port,
    }
    settings = get_settings().model_copy(update={k: v for k, v in overrides.items() if v is not None})
    try:
        from detector import metrics
        from detector.service import DetectorService

        service = DetectorService(settings, subscription=subscription, idle_exit_s=idle_exit, max_frames=max_frames)
        metrics.serve(settings.detector_metrics_port)
        stats = service.run(install_signals=True)
    except RuntimeNotRunning as missing:
        typer.secho(f"error: {missing}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({
            "frames": stats.frames, "received": stats.received, "dead_letters": stats.dead_letters,
            "send_failures": stats.send_failures, "batches": stats.batches, "detections": stats.detections,
            "seconds": round(stats.seconds, 3), "frames_per_second": round(stats.frames_per_second, 3),
        }))
