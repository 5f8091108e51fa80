import type { ZoneFigures } from "../../api/zones";
import { formatInt, formatMean } from "../../lib/format";

/** Beside the chart: per zone, objects inside per frame; per line, crossings in and out (current versions). */
export function ZoneFiguresCard({ items, windowLabel }: { items: ZoneFigures[]; windowLabel: string }) {
  return (
    <section className="card p-4 sm:p-5" aria-labelledby="zone-figures-title" data-testid="zone-figures">
      <h2 id="zone-figures-title" className="mb-2 text-base font-semibold text-slate-900">
        Zones and lines
      </h2>
      <p className="mb-2 text-xs text-slate-500">Over the {windowLabel}; each track crosses a line at most once each way.</p>
      {items.length === 0 ? (
        <p className="text-sm text-slate-500" data-testid="zone-figures-empty">
          No zones or lines yet: draw one on the snapshot.
        </p>
      ) : (
        <ul className="divide-y divide-slate-100 text-sm">
          {items.map((item) => {
            const totalIn = item.classes.reduce((s, c) => s + (c.crossings_in ?? 0), 0);
            const totalOut = item.classes.reduce((s, c) => s + (c.crossings_out ?? 0), 0);
            const mean = item.classes.reduce((s, c) => s + (c.mean_per_frame ?? 0), 0);
            return (
              <li key={item.id} className="py-2" data-testid="zone-figure" data-kind={item.kind} data-name={item.name}>
                <div className="flex items-baseline justify-between gap-2">
                  <span className="font-medium text-slate-900">
                    {item.kind === "zone" ? "Zone" : "Line"} {item.name} <span className="text-xs text-slate-400">v{item.version}</span>
                  </span>
                  {item.kind === "line" ? (
                    <span className="tabular-nums" data-testid="line-totals">
                      in <b data-testid="line-in">{formatInt(totalIn)}</b> · out <b data-testid="line-out">{formatInt(totalOut)}</b>
                    </span>
                  ) : (
                    <span className="tabular-nums" data-testid="zone-mean">
                      {item.frames > 0 ? `${formatMean(mean)} per frame` : "no frames yet"}
                    </span>
                  )}
                </div>
                {item.classes.length > 0 && (
                  <p className="text-xs text-slate-500">
                    {item.classes
                      .map((c) =>
                        item.kind === "line"
                          ? `${c.object}: ${formatInt(c.crossings_in ?? 0)} in, ${formatInt(c.crossings_out ?? 0)} out`
                          : `${c.object}: ${formatMean(c.mean_per_frame ?? 0)} (max ${formatInt(c.max_per_frame ?? 0)}, ${formatInt(c.objects ?? 0)} tracks)`,
                      )
                      .join(" · ")}
                  </p>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
