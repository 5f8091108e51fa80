import { statusStyle } from "../lib/status";

export function StatusBadge({ status, reason }: { status: string; reason?: string | null }) {
  const s = statusStyle(status);
  const title = reason ? `${s.label}: ${reason}` : s.description;
  return (
    <span
      data-testid="status-badge"
      data-status={status}
      title={title}
      className={`inline-flex shrink-0 items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${s.badge}`}
    >
      <span aria-hidden="true" className={`h-1.5 w-1.5 rounded-full ${s.dot} ${status === "live" ? "animate-pulse" : ""}`} />
      <span>
        <span className="sr-only">Status: </span>
        {s.label}
      </span>
    </span>
  );
}
