// Time-axis logic for charts: rows keyed by epoch milliseconds, and a gap row wherever buckets are missing,
// so that an outage is drawn as a break in the line, not as a slope between distant points.
import type { Bucket } from "../api/types";

export const BUCKET_MS: Record<Bucket, number> = { minute: 60_000, hour: 3_600_000 };

export type TimeRow = { t: number } & Record<string, number | null>;

/** Per-class points pivoted into rows sorted by time (epoch ms); a class missing from a bucket is null. */
export function pivot(series: readonly { key: string; points: readonly { t: string; value: number | null }[] }[]): TimeRow[] {
  const rows = new Map<number, TimeRow>();
  for (const s of series) {
    for (const p of s.points) {
      const t = Date.parse(p.t);
      if (!Number.isFinite(t)) continue;
      let row = rows.get(t);
      if (!row) {
        row = { t } as TimeRow;
        for (const other of series) row[other.key] = null;
        rows.set(t, row);
      }
      row[s.key] = p.value;
    }
  }
  return [...rows.values()].sort((a, b) => a.t - b.t);
}

/** Inserts one all-null row after every run of missing buckets: with `connectNulls={false}` the line breaks
 * there. Returns the rows and the number of gaps found. */
export function withGaps(rows: readonly TimeRow[], keys: readonly string[], bucket: Bucket): { rows: TimeRow[]; gaps: number } {
  const step = BUCKET_MS[bucket];
  const out: TimeRow[] = [];
  let gaps = 0;
  let prev: TimeRow | undefined;
  for (const row of rows) {
    if (prev && row.t - prev.t > step * 1.5) {
      const gap = { t: prev.t + step } as TimeRow;
      for (const k of keys) gap[k] = null;
      out.push(gap);
      gaps++;
    }
    out.push(row);
    prev = row;
  }
  return { rows: out, gaps };
}

/** Evenly spaced tick positions (ms) on whole buckets, about `target` of them, for a numeric time axis. */
export function timeTicks(min: number, max: number, bucket: Bucket, target = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) return [];
  const base = BUCKET_MS[bucket];
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((minutes) => minutes * 60_000);
  const span = Math.max(max - min, base);
  const step = steps.find((s) => s >= base && span / s <= target) ?? Math.ceil(span / target / base) * base;
  const first = Math.ceil(min / step) * step;
  const ticks: number[] = [];
  for (let t = first; t <= max; t += step) ticks.push(t);
  return ticks.length ? ticks : [min];
}

export const BUCKET_LABEL: Record<Bucket, string> = { minute: "per minute", hour: "per hour" };
