import { Link, useLocation, useNavigate } from "react-router";
import { getObjects, getTrending } from "../api/client";
import type { TrendingItem } from "../api/types";
import { PageHeader } from "../components/Layout";
import { Empty, ErrorMessage, Loading } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { useApi } from "../hooks/useApi";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { formatInt, formatMean, streamLabel } from "../lib/format";

/** Trending is about the current hour: ask again every minute (a statistics window is a minute). */
export const TRENDING_REFRESH_MS = 60_000;

/** "3.2× usual" or "+1.4 / frame" when the usual is zero. */
export function formatAboveUsual(observed: number, expected: number): string {
  if (expected > 0) return `${(observed / expected).toLocaleString("en", { maximumFractionDigits: 1 })}× usual`;
  return `+${formatMean(observed)} / frame`;
}

function classFromSearch(search: string): string | null {
  const value = new URLSearchParams(search).get("object");
  return value && value.trim() ? value : null;
}

export function TrendingPage() {
  const location = useLocation();
  const navigate = useNavigate();
  const object = classFromSearch(location.search);
  useDocumentTitle(object ? `Trending: ${object}` : "Trending");

  const known = useApi("objects", (signal) => getObjects(signal));
  const classes = known.data?.items.map((i) => i.object) ?? [];
  const key = `trending?${object ?? ""}`;
  const trending = useApi(key, (signal) => getTrending({ object, signal }), { refreshMs: TRENDING_REFRESH_MS });

  return (
    <section aria-labelledby="trending-title" data-testid="view-trending">
      <PageHeader
        title={<span id="trending-title">Trending now</span>}
        subtitle="Streams busier than their own normal for this hour of the week: this hour's mean per frame against the median of the same hour in past weeks."
      />
      <form role="search" aria-label="Trending filter" onSubmit={(e) => e.preventDefault()} className="card mb-6 flex flex-wrap items-end gap-4 p-4">
        <label className="flex flex-col gap-1">
          <span className="field-label">Class</span>
          <select
            className="field-input"
            value={object ?? ""}
            data-testid="trending-class"
            onChange={(e) => navigate({ search: e.target.value ? `?object=${encodeURIComponent(e.target.value)}` : "" })}
          >
            <option value="">Any class (each stream's most unusual)</option>
            {(object && !classes.includes(object) ? [object, ...classes] : classes).map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      </form>
      {trending.error ? (
        <ErrorMessage title="Could not load what is trending" error={trending.error} onRetry={trending.reload} />
      ) : !trending.data ? (
        <Loading label="Loading what is trending…" />
      ) : trending.data.analytics_built === false ? (
        <Empty title="The baselines are being prepared" testId="analytics-not-built">
          Trending needs the analytics build and at least two weeks of history per stream. This page updates by itself.
        </Empty>
      ) : trending.data.items.length === 0 ? (
        <Empty title="Nothing is busier than usual right now" testId="trending-empty">
          A stream is scored once it has two weeks of history for this hour of the week and enough frames this hour.
        </Empty>
      ) : (
        <TrendingTable items={trending.data.items} updating={trending.loading} />
      )}
    </section>
  );
}

function TrendingTable({ items, updating }: { items: TrendingItem[]; updating: boolean }) {
  return (
    <div className="card overflow-x-auto" aria-busy={updating}>
      <table className="w-full text-sm" data-testid="trending-list">
        <caption className="sr-only">Streams ranked by how far above their usual level they are this hour</caption>
        <thead>
          <tr className="border-b border-slate-200 text-left text-xs uppercase tracking-wide text-slate-500">
            <th scope="col" className="px-4 py-2 font-medium">#</th>
            <th scope="col" className="px-4 py-2 font-medium">Stream</th>
            <th scope="col" className="px-4 py-2 font-medium">Class</th>
            <th scope="col" className="px-4 py-2 text-right font-medium">Now / frame</th>
            <th scope="col" className="px-4 py-2 text-right font-medium">Usual</th>
            <th scope="col" className="px-4 py-2 text-right font-medium">Score</th>
            <th scope="col" className="px-4 py-2 font-medium">Based on</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={`${item.stream.id}-${item.object}`} className="border-b border-slate-100" data-testid="trending-row" data-stream-id={item.stream.id}>
              <td className="px-4 py-2 font-semibold tabular-nums">{item.rank}</td>
              <th scope="row" className="px-4 py-2 text-left font-medium text-slate-900">
                <Link to={`/streams/${item.stream.id}`} className="hover:underline" data-testid="trending-link">
                  {streamLabel(item.stream)}
                </Link>
                <span className="ml-2 align-middle">
                  <StatusBadge status={item.stream.status} reason={item.stream.status_reason} />
                </span>
              </th>
              <td className="px-4 py-2">{item.object}</td>
              <td className="px-4 py-2 text-right tabular-nums" data-testid="trending-observed">
                {formatMean(item.observed)}
                <span className="block text-xs text-slate-500">{formatAboveUsual(item.observed, item.expected)}</span>
              </td>
              <td className="px-4 py-2 text-right tabular-nums">{formatMean(item.expected)}</td>
              <td className="px-4 py-2 text-right font-semibold tabular-nums" data-testid="trending-score">
                {item.score.toLocaleString("en", { maximumFractionDigits: 1 })}
              </td>
              <td className="px-4 py-2 text-xs text-slate-500">
                {formatInt(item.frames)} frames this hour · {item.history_weeks} weeks of history
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
