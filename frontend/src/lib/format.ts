// Pure formatting helpers. Locale is fixed to en-US so output is stable in tests and screenshots.

const LOCALE = "en-US";

export function formatInt(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "—";
  return Math.round(n).toLocaleString(LOCALE);
}

/** Objects per frame: 2 decimals under 100, fewer above; "0" stays "0.00" (zeros are data). */
export function formatMean(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "—";
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return n.toLocaleString(LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatFps(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "—";
  return `${n.toLocaleString(LOCALE, { maximumFractionDigits: 2 })} fps`;
}

/** 1.234 -> "1.2 s", 75 -> "1 min 15 s", 3720 -> "1 h 2 min". */
export function formatSeconds(s: number | null | undefined): string {
  if (s == null || !Number.isFinite(s) || s < 0) return "—";
  if (s < 60) return `${s.toLocaleString(LOCALE, { maximumFractionDigits: s < 10 ? 1 : 0 })} s`;
  return formatMinutes(s / 60, true);
}

/** Minutes observed: 24 -> "24 min", 90 -> "1 h 30 min", 2880 -> "2 d 0 h". */
export function formatMinutes(min: number | null | undefined, withSeconds = false): string {
  if (min == null || !Number.isFinite(min) || min < 0) return "—";
  if (min < 60) {
    const whole = Math.floor(min);
    const secs = Math.round((min - whole) * 60);
    if (withSeconds && secs > 0) return `${whole} min ${secs} s`;
    return `${Math.round(min)} min`;
  }
  const totalMin = Math.round(min);
  const days = Math.floor(totalMin / 1440);
  const hours = Math.floor((totalMin % 1440) / 60);
  const mins = totalMin % 60;
  if (days > 0) return `${days} d ${hours} h`;
  return mins ? `${hours} h ${mins} min` : `${hours} h`;
}

/** Bits per second: 2_500_000 -> "2.5 Mbit/s". */
export function formatBitrate(bps: number | null | undefined): string {
  if (bps == null || !Number.isFinite(bps) || bps < 0) return "—";
  if (bps >= 1e6) return `${(bps / 1e6).toLocaleString(LOCALE, { maximumFractionDigits: 1 })} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toLocaleString(LOCALE, { maximumFractionDigits: 0 })} kbit/s`;
  return `${Math.round(bps)} bit/s`;
}

export function formatResolution(w: number | null | undefined, h: number | null | undefined): string {
  if (!w || !h) return "—";
  return `${w}×${h}`;
}

function toDate(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "5 min ago", "just now", "in 2 h"; "never" for null. */
export function formatRelative(iso: string | null | undefined, now: Date = new Date()): string {
  const d = toDate(iso);
  if (!d) return "never";
  const diffS = Math.round((now.getTime() - d.getTime()) / 1000);
  const abs = Math.abs(diffS);
  const suffix = (v: string) => (diffS >= 0 ? `${v} ago` : `in ${v}`);
  if (abs < 45) return "just now";
  if (abs < 3600) return suffix(`${Math.max(1, Math.round(abs / 60))} min`);
  if (abs < 86400) return suffix(`${Math.round(abs / 3600)} h`);
  return suffix(`${Math.round(abs / 86400)} d`);
}

/** Absolute date-time in UTC, e.g. "2026-11-23 18:00 UTC" (unambiguous for every viewer). */
export function formatDateTime(iso: string | null | undefined): string {
  const d = toDate(iso);
  if (!d) return "—";
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Chart axis tick: "18:00" for minute/hour buckets within a day, "Nov 23" otherwise. */
export function formatTick(iso: string, spanHours: number): string {
  const d = toDate(iso);
  if (!d) return "";
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  if (spanHours <= 24) return `${hh}:${mm}`;
  const month = d.toLocaleString(LOCALE, { month: "short", timeZone: "UTC" });
  return `${month} ${d.getUTCDate()} ${hh}:00`;
}

/** Title-cases a class for headings: "traffic light" -> "Traffic light". */
export function capitalise(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

/** A stream's display name: its given name, else the source title, else its canonical id. */
export function streamLabel(s: { name: string | null; title: string | null; canonical_id: string; id: number }): string {
  return s.name?.trim() || s.title?.trim() || s.canonical_id || `Stream ${s.id}`;
}

export function formatWindow(w: string): string {
  switch (w) {
    case "1h":
      return "last hour";
    case "6h":
      return "last 6 hours";
    case "24h":
      return "last 24 hours";
    case "7d":
      return "last 7 days";
    default:
      return w;
  }
}

export function formatKind(kind: string): string {
  switch (kind) {
    case "youtube":
      return "YouTube";
    case "hls":
      return "HLS";
    case "rtsp":
      return "RTSP";
    case "http":
      return "HTTP";
    case "file":
      return "File";
    default:
      return kind;
  }
}
