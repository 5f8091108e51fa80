// Types mirror /work/contracts/API.md (streamscope HTTP API v1).

export const STREAM_STATUSES = [
  "pending",
  "live",
  "reconnecting",
  "ended",
  "failed",
  "paused",
] as const;
export type StreamStatus = (typeof STREAM_STATUSES)[number];

export type SourceKind = "youtube" | "hls" | "http" | "rtsp" | "file";

export interface Stream {
  id: number;
  canonical_id: string;
  url: string;
  kind: SourceKind;
  name: string | null;
  title: string | null;
  channel: string | null;
  is_live: boolean | null;
  fps: number;
  status: StreamStatus;
  status_reason: string | null;
  created_at: string;
  last_frame_at: string | null;
  snapshot_url: string | null;
}

export interface Health {
  session_id: string;
  started_at: string;
  startup_seconds: number | null;
  frames_read: number;
  frames_published: number;
  stalls: number;
  reconnects: number;
  width: number | null;
  height: number | null;
  source_fps: number | null;
  bitrate: number | null;
  last_frame_at: string | null;
  last_error: string | null;
}

export interface TopObject {
  object: string;
  mean_per_frame: number;
  max_per_frame: number;
  unique_objects: number;
}

export interface StreamDetail extends Stream {
  health: Health | null;
  top_objects: TopObject[];
  /** false until the first dbt build: the figures are then empty, not missing. */
  analytics_built?: boolean;
}

export interface StreamList {
  items: Stream[];
  total: number;
  limit: number;
  offset: number;
}

export interface ObjectSummary {
  object: string;
  rank: number;
  mean_per_frame: number;
  streams: number;
  frames: number;
}

export interface ObjectList {
  items: ObjectSummary[];
  /** false until the first dbt build: the figures are then empty, not missing. */
  analytics_built?: boolean;
}

export const WINDOWS = ["1h", "6h", "24h", "7d"] as const;
export type RankingWindow = (typeof WINDOWS)[number];

export interface PerObject {
  object: string;
  mean_per_frame: number;
  max_per_frame: number;
  unique_objects: number;
}

export interface RankingItem {
  rank: number;
  stream: Stream;
  score: number;
  frames: number;
  minutes_observed: number;
  per_object: PerObject[];
}

export interface Rankings {
  objects: string[];
  window: RankingWindow;
  items: RankingItem[];
  /** false until the first dbt build: the figures are then empty, not missing. */
  analytics_built?: boolean;
}

export type Bucket = "minute" | "hour";

export interface SeriesPoint {
  t: string;
  mean_per_frame: number;
  max_per_frame: number;
  unique_objects: number;
  frames: number;
}

export interface ObjectSeries {
  object: string;
  points: SeriesPoint[];
}

export interface StreamObjects {
  bucket: Bucket;
  series: ObjectSeries[];
  /** false until the first dbt build: the figures are then empty, not missing. */
  analytics_built?: boolean;
}

export interface NewStream {
  url: string;
  name?: string;
  fps?: number;
  check?: boolean;
}

export interface StreamPatch {
  paused?: boolean;
  fps?: number;
  name?: string;
}

export interface ApiHealth {
  status: string;
  database: boolean;
  version: string;
}
