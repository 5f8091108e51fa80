import type { StreamStatus } from "../api/types";

export interface StatusStyle {
  label: string;
  /** Tailwind classes for the badge (text contrast AA on its background). */
  badge: string;
  dot: string;
  description: string;
}

export const STATUS_STYLES: Record<StreamStatus, StatusStyle> = {
  live: {
    label: "Live",
    badge: "bg-emerald-50 text-emerald-800 ring-emerald-600/30",
    dot: "bg-emerald-500",
    description: "Frames are being read and analysed",
  },
  reconnecting: {
    label: "Reconnecting",
    badge: "bg-amber-50 text-amber-800 ring-amber-600/30",
    dot: "bg-amber-500",
    description: "The source stalled; the reader is reconnecting",
  },
  pending: {
    label: "Pending",
    badge: "bg-sky-50 text-sky-800 ring-sky-600/30",
    dot: "bg-sky-500",
    description: "Registered; waiting for the first frames",
  },
  paused: {
    label: "Paused",
    badge: "bg-slate-100 text-slate-700 ring-slate-500/30",
    dot: "bg-slate-400",
    description: "Paused by an operator",
  },
  ended: {
    label: "Ended",
    badge: "bg-zinc-100 text-zinc-700 ring-zinc-500/30",
    dot: "bg-zinc-400",
    description: "The broadcast has ended",
  },
  failed: {
    label: "Failed",
    badge: "bg-rose-50 text-rose-800 ring-rose-600/30",
    dot: "bg-rose-500",
    description: "The source could not be read",
  },
};

export function statusStyle(status: string): StatusStyle {
  return (
    STATUS_STYLES[status as StreamStatus] ?? {
      label: status || "Unknown",
      badge: "bg-slate-100 text-slate-700 ring-slate-500/30",
      dot: "bg-slate-400",
      description: "Unknown status",
    }
  );
}
