import type { ReactNode } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { getStream, getStreamObjects } from "../api/client";
import type { Health, StreamDetail, TopObject } from "../api/types";
import { ObjectsChart, METRIC_LABELS } from "../components/ObjectsChart";
import { PageHeader } from "../components/Layout";
import { Empty, ErrorMessage, Loading } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { WindowPicker } from "../components/WindowPicker";
import { useApi } from "../hooks/useApi";
import { useLiveEvents, type LiveEvent } from "../hooks/useLiveEvents";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { getZoneFigures, getZones } from "../api/zones";
import { ZoneEditor } from "../components/zones/ZoneEditor";
import { ZoneFiguresCard } from "../components/zones/ZoneFiguresCard";
import {
  formatBitrate,
  formatDateTime,
  formatFps,
  formatInt,
  formatKind,
  formatMean,
  formatRelative,
  formatResolution,
  formatSeconds,
  formatWindow,
  streamLabel,
} from "../lib/format";
import {
  DEFAULT_WINDOW,
  METRICS,
  parseDetailQuery,
  rangeToRequest,
  serialiseDetailQuery,
  serialiseRankingsQuery,
  type DetailState,
  type Metric,
} from "../lib/query";

const REFRESH_MS = 30_000;
const SPAN_HOURS = { "1h": 1, "6h": 6, "24h": 24, "7d": 168 } as const;

export default function StreamDetailPage() {
  const { id = "" } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const state = parseDetailQuery(location.search);
  const validId = /^\d+$/.test(id);

  // Server-sent events replace the interval refresh while they flow; polling is the fallback (live updates
  // refused, e.g. on the Lambda deployment, or reconnecting).
  const live = useLiveEvents(validId ? `/streams/${id}/events` : null, (events: LiveEvent[]) => {
    stream.reload();
    if (events.some((e) => e.kind === "window" || e.kind === "reset")) series.reload();
  });
  const polling = live.mode !== "live";
  const stream = useApi(validId ? `stream:${id}` : null, (signal) => getStream(id, signal), {
    refreshMs: polling ? REFRESH_MS : undefined,
  });
  // "now" is taken when the request is made, never once at load time.
  const series = useApi(validId ? `series:${id}:${state.range}` : null, (signal) =>
    getStreamObjects(id, rangeToRequest(state.range, new Date()), signal),
  );
  const lastWindow = live.last?.kind === "window" ? String(live.last.data.window_end ?? "") : "";

  const zones = useApi(validId ? `zones:${id}` : null, (signal) => getZones(id, signal));
  const zoneFigures = useApi(validId ? `zone-figures:${id}:${state.range}` : null, (signal) => getZoneFigures(id, state.range, signal), {
    refreshMs: REFRESH_MS / 2,
  });
  const zonesSaved = () => {
    zones.reload();
    zoneFigures.reload();
  };

  const name = stream.data ? streamLabel(stream.data) : `Stream ${id}`;
  useDocumentTitle(name);
  const setState = (next: DetailState) => navigate({ search: serialiseDetailQuery(next) }, { replace: true });

  if (!validId || stream.error?.status === 404) {
    return (
      <section data-testid="view-stream-not-found">
        <PageHeader title="Stream not found" subtitle={`There is no stream with id “${id}”.`} />
        <Link to="/streams" className="btn-primary">
          All streams
        </Link>
      </section>
    );
  }

  return (
    <section aria-labelledby="stream-title" aria-busy={!stream.data && !stream.error} data-testid="view-stream" data-stream-id={id}>
      <nav aria-label="Breadcrumb" className="mb-3 text-sm">
        <ol className="flex flex-wrap items-center gap-1 text-slate-500">
          <li>
            <Link to="/streams" className="link">
              Streams
            </Link>
          </li>
          <li aria-hidden="true">/</li>
          <li aria-current="page" className="truncate text-slate-700">
            {name}
          </li>
        </ol>
      </nav>

      <PageHeader
        testId="stream-title"
        title={
          <span id="stream-title" className="flex flex-wrap items-center gap-3">
            <span className="break-words">{name}</span>
            {stream.data && <StatusBadge status={stream.data.status} reason={stream.data.status_reason} />}
          </span>
        }
        subtitle={stream.data ? <StreamSubtitle detail={stream.data} /> : undefined}
        actions={
          stream.data ? (
            <span className="text-xs text-slate-500" data-testid="live-mode" data-mode={live.mode}>
              {stream.loading ? "Refreshing…" : polling ? `Auto-refreshes every ${REFRESH_MS / 1000} s` : "Live"}
              {lastWindow && (
                <span className="ml-2" data-testid="live-last-window">
                  Latest window {formatDateTime(lastWindow)}
                </span>
              )}
            </span>
          ) : undefined
        }
      />
      {stream.error && !stream.data ? (
        <ErrorMessage title="Could not load this stream" error={stream.error} onRetry={stream.reload} />
      ) : !stream.data ? (
        <Loading label="Loading stream…" />
      ) : (
        <StreamBody
          detail={stream.data}
          snapshot={<ZoneEditor streamId={id} snapshotUrl={stream.data.snapshot_url} alt={`Latest annotated snapshot of ${name}`} zones={zones.data?.items ?? []} onSaved={zonesSaved} />}
          figures={<ZoneFiguresCard items={zoneFigures.data?.items ?? []} windowLabel={formatWindow(state.range)} />}
        >
          <div className="card p-4 sm:p-5" data-testid="chart-card">
            <div className="mb-4 flex flex-wrap items-end justify-between gap-4">
              <h2 className="text-base font-semibold text-slate-900">Objects over time</h2>
              <div className="flex flex-wrap items-end gap-4">
                <div>
                  <label htmlFor="metric" className="field-label">
                    Metric
                  </label>
                  <select
                    id="metric"
                    data-testid="metric-select"
                    value={state.metric}
                    onChange={(e) => setState({ ...state, metric: e.target.value as Metric })}
                    className="field-input py-1.5"
                  >
                    {METRICS.map((m) => (
                      <option key={m} value={m}>
                        {METRIC_LABELS[m]}
                      </option>
                    ))}
                  </select>
                </div>
                <WindowPicker legend="Range" testId="range-picker" value={state.range} onChange={(r) => setState({ ...state, range: r })} />
              </div>
            </div>
            {series.error ? (
              <ErrorMessage title="Could not load the time series" error={series.error} onRetry={series.reload} />
            ) : !series.data ? (
              <Loading label="Loading chart…">
                <div aria-hidden="true" className="h-72 animate-pulse rounded-lg bg-slate-100 sm:h-80" />
              </Loading>
            ) : series.data.series.every((s) => s.points.length === 0) ? (
              <Empty title={`No detections in the ${formatWindow(state.range)}`} testId="chart-empty">
                Frames with no objects still count; this stream has no processed frames in this range.
              </Empty>
            ) : (
              <ObjectsChart series={series.data.series} metric={state.metric} spanHours={SPAN_HOURS[state.range]} bucket={series.data.bucket} />
            )}
          </div>
        </StreamBody>
      )}
    </section>
  );
}

function StreamSubtitle({ detail }: { detail: StreamDetail }) {
  const name = streamLabel(detail);
  const sub = [detail.title && detail.title !== name ? detail.title : null, detail.channel].filter(Boolean).join(" · ");
  return (
    <>
      {sub && <span>{sub} · </span>}
      <a href={detail.url} target="_blank" rel="noopener noreferrer" className="link" data-testid="source-link">
        Open source ({formatKind(detail.kind)})<span className="sr-only"> in a new tab</span> ↗
      </a>
    </>
  );
}

function StreamBody({ detail, snapshot, figures, children }: { detail: StreamDetail; snapshot: ReactNode; figures: ReactNode; children: ReactNode }) {
  return (
    <>
      {detail.status_reason && (
        <p className="mb-4 rounded-lg border border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900" data-testid="status-reason">
          {detail.status_reason}
        </p>
      )}
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <div className="flex min-w-0 flex-col gap-6 lg:col-span-2">
          {snapshot}
          {children}
        </div>
        <div className="flex min-w-0 flex-col gap-6">
          {figures}
          <TopObjects items={detail.top_objects} />
          <HealthCard health={detail.health} />
          <MetaCard detail={detail} />
        </div>
      </div>
    </>
  );
}

function Facts({ rows, testId }: { rows: [string, ReactNode][]; testId: string }) {
  return (
    <dl className="divide-y divide-slate-100 text-sm" data-testid={testId}>
      {rows.map(([k, v]) => (
        <div key={k} className="flex justify-between gap-4 py-2">
          <dt className="text-slate-500">{k}</dt>
          <dd className="min-w-0 text-right font-medium break-words text-slate-900 tabular-nums">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function TopObjects({ items }: { items: TopObject[] }) {
  return (
    <section className="card p-4 sm:p-5" aria-labelledby="top-objects-title" data-testid="top-objects">
      <h2 id="top-objects-title" className="mb-2 text-base font-semibold text-slate-900">
        Top objects
      </h2>
      {items.length === 0 ? (
        <p className="text-sm text-slate-500">Nothing detected yet.</p>
      ) : (
        <table className="w-full text-sm">
          <caption className="sr-only">Top objects on this stream</caption>
          <thead className="text-left text-xs text-slate-500">
            <tr>
              <th scope="col" className="py-1 font-medium">Class</th>
              <th scope="col" className="py-1 text-right font-medium">Mean</th>
              <th scope="col" className="py-1 text-right font-medium">Max</th>
              <th scope="col" className="py-1 text-right font-medium">Unique</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {items.map((o) => (
              <tr key={o.object} data-testid="top-object-row" data-object={o.object}>
                <th scope="row" className="py-1.5 text-left font-normal">
                  <Link to={{ pathname: "/", search: serialiseRankingsQuery({ objects: [o.object], window: DEFAULT_WINDOW }) }} className="link">
                    {o.object}
                  </Link>
                </th>
                <td className="py-1.5 text-right tabular-nums">{formatMean(o.mean_per_frame)}</td>
                <td className="py-1.5 text-right tabular-nums">{formatInt(o.max_per_frame)}</td>
                <td className="py-1.5 text-right tabular-nums">{formatInt(o.unique_objects)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function HealthCard({ health }: { health: Health | null }) {
  return (
    <section className="card p-4 sm:p-5" aria-labelledby="health-title" data-testid="stream-health">
      <h2 id="health-title" className="mb-1 text-base font-semibold text-slate-900">
        Health
      </h2>
      {!health ? (
        <p className="text-sm text-slate-500">No reader session yet.</p>
      ) : (
        <>
          <Facts
            testId="health-facts"
            rows={[
              ["Session started", <time dateTime={health.started_at} title={formatDateTime(health.started_at)}>{formatRelative(health.started_at)}</time>],
              ["Startup time", formatSeconds(health.startup_seconds)],
              ["Frames read", formatInt(health.frames_read)],
              ["Frames published", formatInt(health.frames_published)],
              ["Stalls", formatInt(health.stalls)],
              ["Reconnects", formatInt(health.reconnects)],
              ["Resolution", formatResolution(health.width, health.height)],
              ["Source frame rate", formatFps(health.source_fps)],
              ["Bitrate", formatBitrate(health.bitrate)],
              ["Last frame", <time dateTime={health.last_frame_at ?? undefined} title={formatDateTime(health.last_frame_at)}>{formatRelative(health.last_frame_at)}</time>],
            ]}
          />
          {health.last_error && (
            <p className="mt-2 rounded-md bg-rose-50 px-3 py-2 text-xs break-words text-rose-800" data-testid="health-last-error">
              <span className="font-semibold">Last error: </span>
              {health.last_error}
            </p>
          )}
        </>
      )}
    </section>
  );
}

function MetaCard({ detail }: { detail: StreamDetail }) {
  return (
    <section className="card p-4 sm:p-5" aria-labelledby="meta-title" data-testid="stream-meta">
      <h2 id="meta-title" className="mb-1 text-base font-semibold text-slate-900">
        Details
      </h2>
      <Facts
        testId="meta-facts"
        rows={[
          ["Source", formatKind(detail.kind)],
          ["Id", <code className="text-xs">{detail.canonical_id}</code>],
          ["Channel", detail.channel ?? "—"],
          ["Live broadcast", detail.is_live == null ? "—" : detail.is_live ? "Yes" : "No"],
          ["Sampling", formatFps(detail.fps)],
          ["Registered", formatDateTime(detail.created_at)],
          ["Last frame", formatDateTime(detail.last_frame_at)],
        ]}
      />
    </section>
  );
}
