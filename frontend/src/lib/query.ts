// Query-string state for every view, so that each view's URL can be shared.
// Parsing is forgiving (unknown values fall back to defaults); serialising is canonical.

import { buildQuery } from "../api/client";
import { STREAM_STATUSES, WINDOWS, type Bucket, type RankingWindow, type StreamStatus } from "../api/types";

export const DEFAULT_WINDOW: RankingWindow = "24h";
export const MAX_OBJECTS = 8;

function toParams(search: string | URLSearchParams): URLSearchParams {
  return typeof search === "string" ? new URLSearchParams(search) : search;
}

/** "  Traffic   Light " -> "traffic light" (COCO class names are lower case, single-spaced). */
export function normaliseObject(raw: string): string {
  return raw.trim().replace(/\s+/g, " ").toLowerCase();
}

/** Normalises, drops empties and duplicates (first one wins) and caps the list. */
export function normaliseObjects(raw: readonly string[], max = MAX_OBJECTS): string[] {
  const out: string[] = [];
  for (const r of raw) {
    const o = normaliseObject(r);
    if (o && !out.includes(o)) out.push(o);
    if (out.length >= max) break;
  }
  return out;
}

export function isWindow(value: string | null | undefined): value is RankingWindow {
  return value != null && (WINDOWS as readonly string[]).includes(value);
}

// ---- Rankings: /?object=person&object=traffic%20light&window=24h -------------------------------

export interface RankingsState {
  objects: string[];
  window: RankingWindow;
}

export function parseRankingsQuery(search: string | URLSearchParams): RankingsState {
  const p = toParams(search);
  const w = p.get("window");
  return {
    objects: normaliseObjects(p.getAll("object")),
    window: isWindow(w) ? w : DEFAULT_WINDOW,
  };
}

export function serialiseRankingsQuery(state: RankingsState): string {
  return buildQuery({ object: normaliseObjects(state.objects), window: state.window });
}

// ---- Stream detail: /streams/3?range=6h&metric=unique ------------------------------------------

export const METRICS = ["mean", "max", "unique"] as const;
export type Metric = (typeof METRICS)[number];

export interface DetailState {
  range: RankingWindow;
  metric: Metric;
}

export const DEFAULT_DETAIL: DetailState = { range: "24h", metric: "mean" };

export function parseDetailQuery(search: string | URLSearchParams): DetailState {
  const p = toParams(search);
  const r = p.get("range");
  const m = p.get("metric");
  return {
    range: isWindow(r) ? r : DEFAULT_DETAIL.range,
    metric: (METRICS as readonly string[]).includes(m ?? "") ? (m as Metric) : DEFAULT_DETAIL.metric,
  };
}

/** Defaults are left out, so the plain /streams/3 is the canonical URL. */
export function serialiseDetailQuery(state: DetailState): string {
  return buildQuery({
    range: state.range === DEFAULT_DETAIL.range ? null : state.range,
    metric: state.metric === DEFAULT_DETAIL.metric ? null : state.metric,
  });
}

const WINDOW_MS: Record<RankingWindow, number> = {
  "1h": 3_600_000,
  "6h": 6 * 3_600_000,
  "24h": 24 * 3_600_000,
  "7d": 7 * 24 * 3_600_000,
};

/**
 * The time-series request for a range, computed from `now` at request time (never at import):
 * minute buckets up to 6 h, hour buckets beyond.
 */
export function rangeToRequest(range: RankingWindow, now: Date): { from: string; to: string; bucket: Bucket } {
  const to = new Date(now.getTime());
  const from = new Date(now.getTime() - WINDOW_MS[range]);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    bucket: range === "1h" || range === "6h" ? "minute" : "hour",
  };
}

// ---- Manage streams: /streams?status=live&q=cam&page=2 ------------------------------------------

export const PAGE_SIZE = 25;

export interface StreamsState {
  status: StreamStatus | null;
  q: string;
  page: number;
}

export function parseStreamsQuery(search: string | URLSearchParams): StreamsState {
  const p = toParams(search);
  const s = p.get("status");
  const page = Number.parseInt(p.get("page") ?? "1", 10);
  return {
    status: (STREAM_STATUSES as readonly string[]).includes(s ?? "") ? (s as StreamStatus) : null,
    q: (p.get("q") ?? "").trim(),
    page: Number.isFinite(page) && page >= 1 ? page : 1,
  };
}

export function serialiseStreamsQuery(state: StreamsState): string {
  return buildQuery({
    status: state.status,
    q: state.q.trim() || null,
    page: state.page > 1 ? state.page : null,
  });
}
