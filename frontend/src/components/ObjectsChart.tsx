import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Bucket, ObjectSeries } from "../api/types";
import { formatDateTime, formatInt, formatMean, formatTick } from "../lib/format";
import type { Metric } from "../lib/query";
import { BUCKET_LABEL, pivot, timeTicks, withGaps, type TimeRow } from "../lib/timeseries";

export const MAX_LINES = 6;
// Colour-blind-friendly palette (Okabe–Ito, darkened for contrast on white).
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];

export const METRIC_LABELS: Record<Metric, string> = {
  mean: "Mean objects per frame",
  max: "Max objects in a frame",
  unique: "Unique objects",
};

const FIELD = { mean: "mean_per_frame", max: "max_per_frame", unique: "unique_objects" } as const;

export type ChartRow = TimeRow;

/** The classes to draw: the `max` largest by summed metric (ties by name). */
export function pickSeries(series: readonly ObjectSeries[], metric: Metric, max = MAX_LINES): ObjectSeries[] {
  const f = FIELD[metric];
  return [...series]
    .map((s) => ({ s, total: s.points.reduce((a, p) => a + (p[f] ?? 0), 0) }))
    .sort((a, b) => b.total - a.total || a.s.object.localeCompare(b.s.object))
    .slice(0, max)
    .map((x) => x.s);
}

/** Per-class series as rows on a time axis (epoch ms, sorted); a class missing from a bucket stays null. */
export function toChartRows(series: readonly ObjectSeries[], metric: Metric): ChartRow[] {
  const f = FIELD[metric];
  return pivot(series.map((s) => ({ key: s.object, points: s.points.map((p) => ({ t: p.t, value: p[f] })) })));
}

function fmt(metric: Metric, v: unknown): string {
  if (typeof v !== "number") return "—";
  return metric === "mean" ? formatMean(v) : formatInt(v);
}

export function ObjectsChart({ series, metric, spanHours, bucket = "hour" }: { series: ObjectSeries[]; metric: Metric; spanHours: number; bucket?: Bucket }) {
  const shown = pickSeries(series, metric);
  const rows = toChartRows(shown, metric);
  const drawn = withGaps(rows, shown.map((s) => s.object), bucket);
  const label = METRIC_LABELS[metric];
  const min = rows[0]?.t ?? NaN;
  const max = rows[rows.length - 1]?.t ?? NaN;

  return (
    <figure data-testid="objects-chart" className="m-0">
      <div
        role="img"
        aria-label={`Line chart of ${label.toLowerCase()} over time for ${shown.map((s) => s.object).join(", ")}. The same data is available as a table below.`}
        className="h-72 w-full sm:h-80"
      >
        <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 320, height: 288 }}>
          <LineChart data={drawn.rows} margin={{ top: 8, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" vertical={false} />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={["dataMin", "dataMax"]}
              ticks={timeTicks(min, max, bucket)}
              tickFormatter={(t: number) => formatTick(new Date(t).toISOString(), spanHours)}
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
              labelFormatter={(t) => formatDateTime(new Date(Number(t)).toISOString())}
              formatter={(v) => fmt(metric, v)}
              contentStyle={{ borderRadius: 8, borderColor: "#e2e8f0", fontSize: 13 }}
            />
            <Legend wrapperStyle={{ fontSize: 13 }} />
            {shown.map((s, i) => (
              <Line
                key={s.object}
                type="linear"
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
        {label} {BUCKET_LABEL[bucket]} (UTC)
        {drawn.gaps > 0 && (
          <span data-testid="chart-gaps">
            {` · ${drawn.gaps} ${drawn.gaps === 1 ? "gap" : "gaps"}: no frames processed, drawn as a break in the line`}
          </span>
        )}
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
                  <th scope="row" className="py-1 pr-3 text-left font-normal tabular-nums">{formatDateTime(new Date(r.t).toISOString())}</th>
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
