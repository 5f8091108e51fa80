import { Link, useLocation, useNavigate } from "react-router";
import { getObjects } from "../api/client";
import { PageHeader } from "../components/Layout";
import { Empty, ErrorMessage, Loading } from "../components/States";
import { useApi } from "../hooks/useApi";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { formatInt, formatMean } from "../lib/format";
import { buildQuery } from "../api/client";
import { DEFAULT_WINDOW, normaliseObject, serialiseRankingsQuery } from "../lib/query";

export function ObjectsPage() {
  useDocumentTitle("Objects");
  const location = useLocation();
  const navigate = useNavigate();
  const q = new URLSearchParams(location.search).get("q") ?? "";
  const objects = useApi("objects", (signal) => getObjects(signal));

  const needle = normaliseObject(q);
  const all = objects.data?.items ?? [];
  const items = needle ? all.filter((o) => o.object.includes(needle)) : all;
  const maxMean = Math.max(0, ...all.map((o) => o.mean_per_frame));

  return (
    <section aria-labelledby="objects-title" data-testid="view-objects">
      <PageHeader
        title={<span id="objects-title">Objects overview</span>}
        subtitle="All detected classes, ranked by mean objects per frame across every stream."
      />

      <div className="mb-4 max-w-sm">
        <label htmlFor="objects-filter" className="field-label">
          Filter classes
        </label>
        <input
          id="objects-filter"
          data-testid="objects-filter"
          type="search"
          className="field-input"
          placeholder="e.g. car"
          value={q}
          onChange={(e) => navigate({ search: buildQuery({ q: e.target.value || null }) }, { replace: true })}
        />
      </div>

      {objects.error ? (
        <ErrorMessage title="Could not load the classes" error={objects.error} onRetry={objects.reload} />
      ) : !objects.data ? (
        <Loading label="Loading classes…" />
      ) : objects.data.analytics_built === false ? (
        <Empty title="The statistics are being prepared" testId="analytics-not-built">
          Classes appear a few minutes after the first streams are read.
        </Empty>
      ) : all.length === 0 ? (
        <Empty title="No objects detected yet">Register a stream on the Streams page; its detections appear here.</Empty>
      ) : items.length === 0 ? (
        <Empty title={`No class matches “${q}”`} />
      ) : (
        <div className="card overflow-x-auto">
          <table className="w-full text-sm" data-testid="objects-table">
            <caption className="sr-only">Object classes ranked by mean objects per frame</caption>
            <thead className="bg-slate-50 text-left text-xs whitespace-nowrap uppercase tracking-wide text-slate-500">
              <tr>
                <th scope="col" className="w-10 px-2 py-3 font-medium sm:w-16 sm:px-4"><span aria-hidden="true">#</span><span className="sr-only">Rank</span></th>
                <th scope="col" className="px-2 py-3 sm:px-4 font-medium">Class</th>
                <th scope="col" className="px-2 py-3 sm:px-4 text-right font-medium">Mean / frame</th>
                <th scope="col" className="px-2 py-3 sm:px-4 text-right font-medium">Streams</th>
                <th scope="col" className="px-2 py-3 sm:px-4 text-right font-medium">Frames</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {items.map((o) => (
                <tr key={o.object} data-testid="object-row" data-object={o.object} className="hover:bg-slate-50">
                  <td className="px-2 py-3 sm:px-4 tabular-nums text-slate-500">{o.rank}</td>
                  <th scope="row" className="px-2 py-3 sm:px-4 text-left font-medium">
                    <Link
                      to={{ pathname: "/", search: serialiseRankingsQuery({ objects: [o.object], window: DEFAULT_WINDOW }) }}
                      className="link"
                      aria-label={`${o.object}: see streams ranked by ${o.object}`}
                    >
                      {o.object}
                    </Link>
                  </th>
                  <td className="px-2 py-3 sm:px-4 text-right">
                    <div className="flex items-center justify-end gap-3">
                      <div aria-hidden="true" className="hidden h-1.5 w-24 overflow-hidden rounded-full bg-slate-100 sm:block">
                        <div className="h-full rounded-full bg-sky-500" style={{ width: `${maxMean > 0 ? (o.mean_per_frame / maxMean) * 100 : 0}%` }} />
                      </div>
                      <span className="tabular-nums sm:w-14">{formatMean(o.mean_per_frame)}</span>
                    </div>
                  </td>
                  <td className="px-2 py-3 sm:px-4 text-right tabular-nums">{formatInt(o.streams)}</td>
                  <td className="px-2 py-3 sm:px-4 text-right tabular-nums">{formatInt(o.frames)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
