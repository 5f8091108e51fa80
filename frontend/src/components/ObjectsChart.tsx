import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ObjectSeries } from "../api/types";
import { formatDateTime, formatInt, formatMean, formatTick } from "../lib/format";
import type { Metric } from "../lib/query";

export const MAX_LINES = 6;
// Colour-blind-friendly palette (Okabe–Ito, darkened for contrast on white).
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];

export const METRIC_LABELS: Record<Metric, string> = {
  mean: "Mean objects per frame",
  max: "Max objects in a frame",
  unique: "Unique objects",
};

const FIELD = { mean: "mean_per_frame", max: "max_per_frame", unique: "unique_objects" } as const;

export type ChartRow = { t: string } & Record<string, number | string | null>;

/** The classes to draw: the `max` largest by summed metric (ties by name). */
export function pickSeries(series: readonly ObjectSeries[], metric: Metric, max = MAX_LINES): ObjectSeries[] {
  const f = FIELD[metric];
  return [...series]
    .map((s) => ({ s, total: s.points.reduce((a, p) => a + (p[f] ?? 0), 0) }))
    .sort((a, b) => b.total - a.total || a.s.object.localeCompare(b.s.object))
    .slice(0, max)
    .map((x) => x.s);
}

/** Pivots per-class series into one row per time bucket, sorted by time; gaps stay null. */
export function toChartRows(series: readonly ObjectSeries[], metric: Metric): ChartRow[] {
  const f = FIELD[metric];
  const rows = new Map<string, ChartRow>();
  for (const s of series) {
    for (const p of s.points) {
      const key = new Date(p.t).toISOString();
      let row = rows.get(key);
      if (!row) {
        row = { t: key } as ChartRow;
        for (const other of series) row[other.object] = null;
        rows.set(key, row);
      }
      row[s.object] = p[f];
    }
  }
  return [...rows.values()].sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
}

function fmt(metric: Metric, v: unknown): string {
  if (typeof v !== "number") return "—";
  return metric === "mean" ? formatMean(v) : formatInt(v);
}

export function ObjectsChart({ series, metric, spanHours }: { series: ObjectSeries[]; metric: Metric; spanHours: number }) {
  const shown = pickSeries(series, metric);
  const rows = toChartRows(shown, metric);
  const label = METRIC_LABELS[metric];

  return (
    <figure data-testid="objects-chart" className="m-0">
      <div
        role="img"
        aria-label={`Line chart of ${label.toLowerCase()} over time for ${shown.map((s) => s.object).join(", ")}. The same data is available as a table below.`}
        className="h-72 w-full sm:h-80"
      >
        <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 320, height: 288 }}>
          <LineChart data={rows} margin={{ top: 8, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" vertical={false} />
            <XAxis
              dataKey="t"
              tickFormatter={(t: string) => formatTick(t, spanHours)}
              tick={{ fontSize: 12, fill: "#64748b" }}
              minTickGap={24}
              stroke="#cbd5e1"
            />
            <YAxis
              tick={{ fontSize: 12, fill: "#64748b" }}
              width={44}
              stroke="#cbd5e1"
              allowDecimals={metric === "mean"}
              tickFormatter={(v: number) => (metric === "mean" ? formatMean(v) : formatInt(v))}
            />
            <Tooltip
              labelFormatter={(t) => formatDateTime(String(t))}
              formatter={(v) => fmt(metric, v)}
              contentStyle={{ borderRadius: 8, borderColor: "#e2e8f0", fontSize: 13 }}
            />
            <Legend wrapperStyle={{ fontSize: 13 }} />
            {shown.map((s, i) => (
              <Line
                key={s.object}
                type="monotone"
                dataKey={s.object}
                name={s.object}
                stroke={PALETTE[i % PALETTE.length]}
                strokeWidth={2}
                dot={rows.length < 30}
                connectNulls={false}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="mt-2 text-xs text-slate-500">
        {label} per {rows.length > 1 ? "time bucket" : "bucket"}
        {series.length > shown.length ? ` · showing the ${shown.length} largest of ${series.length} classes` : ""}
      </figcaption>
      <details className="mt-3 text-sm" data-testid="chart-data">
        <summary className="cursor-pointer rounded text-sky-700 focus-visible:outline-2 focus-visible:outline-sky-600">Show data as a table</summary>
        <div className="mt-2 max-h-72 overflow-auto">
          <table className="w-full text-xs" data-testid="chart-table">
            <caption className="sr-only">{label} by time</caption>
            <thead className="sticky top-0 bg-white text-left text-slate-500">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">Time (UTC)</th>
                {shown.map((s) => (
                  <th key={s.object} scope="col" className="py-1 pr-3 text-right font-medium">
                    {s.object}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {rows.map((r) => (
                <tr key={r.t}>
                  <th scope="row" className="py-1 pr-3 text-left font-normal tabular-nums">{formatDateTime(r.t)}</th>
                  {shown.map((s) => (
                    <td key={s.object} className="py-1 pr-3 text-right tabular-nums">
                      {fmt(metric, r[s.object])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
