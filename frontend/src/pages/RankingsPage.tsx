import { useCallback, useEffect, useRef } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { getObjects, getRankings } from "../api/client";
import type { RankingItem } from "../api/types";
import { PageHeader } from "../components/Layout";
import { ObjectPicker } from "../components/ObjectPicker";
import { Empty, ErrorMessage, Loading } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { Thumbnail } from "../components/Thumbnail";
import { WindowPicker } from "../components/WindowPicker";
import { useApi } from "../hooks/useApi";
import { useLiveEvents } from "../hooks/useLiveEvents";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { formatInt, formatKind, formatMean, formatMinutes, formatRelative, formatWindow, streamLabel } from "../lib/format";
import { parseRankingsQuery, serialiseRankingsQuery, type RankingsState } from "../lib/query";

export function listObjects(objects: readonly string[]): string {
  if (objects.length <= 1) return objects[0] ?? "";
  return `${objects.slice(0, -1).join(", ")} and ${objects[objects.length - 1]}`;
}

/** How often an empty page asks again while a fresh installation waits for its first statistics. */
export const WAITING_REFRESH_MS = 15_000;

export const FIRST_STATS_HINT =
  "The first statistics arrive about a minute after a stream starts: one statistics window closes, then the analytics build ranks it.";

export function RankingsPage() {
  const location = useLocation();
  const navigate = useNavigate();
  const state = parseRankingsQuery(location.search);
  const { objects, window } = state;
  useDocumentTitle(objects.length ? `Rankings: ${objects.join(", ")}` : "Rankings");

  const setState = useCallback(
    (next: RankingsState) => navigate({ search: serialiseRankingsQuery(next) }),
    [navigate],
  );

  const known = useApi("objects", (signal) => getObjects(signal), { refreshMs: WAITING_REFRESH_MS });
  const suggestions = known.data?.items.map((i) => i.object) ?? [];
  const noStatsYet = known.data !== undefined && suggestions.length === 0;

  // Open on the most common class (the list comes most common first), once: a user who clears the picker
  // afterwards gets the empty picker, not the default again.
  const defaulted = useRef(objects.length > 0);
  useEffect(() => {
    if (defaulted.current || !suggestions.length) return;
    defaulted.current = true;
    navigate({ search: serialiseRankingsQuery({ objects: [suggestions[0]!], window }) }, { replace: true });
  }, [suggestions, window, navigate]);

  const rankingsKey = objects.length ? serialiseRankingsQuery(state) : null;
  // Every stream's new windows and status changes arrive as server-sent events (batched): reload then, and poll
  // only while the event stream is not open (refused, e.g. on the Lambda deployment, or reconnecting).
  const live = useLiveEvents("/events", () => rankings.reload(), { batchMs: 2_000 });
  const rankings = useApi(rankingsKey, (signal) => getRankings(objects, window, { signal }), {
    refreshMs: live.mode === "live" ? undefined : WAITING_REFRESH_MS,
  });

  return (
    <section aria-labelledby="rankings-title" data-testid="view-rankings">
      <PageHeader
        title={<span id="rankings-title">Stream rankings</span>}
        subtitle="Which livestreams show the most of what you are looking for, normalised by frames actually processed."
        actions={
          <span className="text-xs text-slate-500" data-testid="live-mode" data-mode={live.mode}>
            {live.mode === "live" ? "Live" : `Refreshes every ${WAITING_REFRESH_MS / 1000} s`}
          </span>
        }
      />

      <form
        role="search"
        aria-label="Rankings filter"
        onSubmit={(e) => e.preventDefault()}
        className="card mb-6 grid gap-4 p-4 sm:p-5 md:grid-cols-[1fr_auto] md:items-start"
      >
        <ObjectPicker value={objects} onChange={(o) => setState({ objects: o, window })} suggestions={suggestions} />
        <WindowPicker value={window} onChange={(w) => setState({ objects, window: w })} />
      </form>

      {known.error && !objects.length && (
        <div className="mb-4">
          <ErrorMessage title="Could not load the list of classes" error={known.error} onRetry={known.reload} />
        </div>
      )}

      {!objects.length && noStatsYet ? (
        <Empty title="No statistics yet" testId="rankings-waiting">
          <p>{FIRST_STATS_HINT}</p>
          <p className="mt-1">
            No stream yet? Add one on the <Link to="/streams" className="text-sky-700 underline">Streams</Link> page. This page checks again every {WAITING_REFRESH_MS / 1000} s.
          </p>
        </Empty>
      ) : !objects.length ? (
        <Empty title="Pick one or more object classes to rank the streams" testId="rankings-empty">
          {suggestions.length > 0 && (
            <div className="mt-3">
              <p>Popular classes:</p>
              <ul className="mt-2 flex flex-wrap justify-center gap-2" aria-label="Popular classes">
                {suggestions.slice(0, 8).map((o) => (
                  <li key={o}>
                    <Link
                      to={{ search: serialiseRankingsQuery({ objects: [o], window }) }}
                      className="inline-block rounded-full bg-white px-3 py-1 text-sm font-medium text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-sky-50 hover:text-sky-800 focus-visible:outline-2 focus-visible:outline-sky-600"
                      data-testid="quick-object"
                    >
                      {o}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </Empty>
      ) : rankings.error ? (
        <ErrorMessage title="Could not load the rankings" error={rankings.error} onRetry={rankings.reload} />
      ) : !rankings.data ? (
        <Loading label="Loading rankings…">
          <div aria-hidden="true" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {[0, 1, 2].map((i) => (
              <div key={i} className="card h-72 animate-pulse bg-slate-100" />
            ))}
          </div>
        </Loading>
      ) : (
        <RankingResults items={rankings.data.items} objects={objects} window={window} updating={rankings.loading} notBuilt={rankings.data.analytics_built === false} />
      )}
    </section>
  );
}

function RankingResults({ items, objects, window, updating, notBuilt }: { items: RankingItem[]; objects: string[]; window: string; updating: boolean; notBuilt: boolean }) {
  const what = listObjects(objects);
  if (notBuilt) {
    return (
      <Empty title="The rankings are being prepared" testId="analytics-not-built">
        Statistics appear a few minutes after the first streams are read. This page updates by itself.
      </Empty>
    );
  }
  return (
    <div aria-busy={updating}>
      <p className="mb-3 text-sm text-slate-600" role="status" aria-live="polite" data-testid="rankings-summary">
        {items.length === 0
          ? `No stream has seen ${what} in the ${formatWindow(window)}.`
          : `${items.length} ${items.length === 1 ? "stream" : "streams"} ranked by mean ${what} per frame over the ${formatWindow(window)}.`}
        {updating && <span className="ml-2 text-slate-400">Updating…</span>}
      </p>
      {items.length === 0 ? (
        <Empty title={`No detections of ${what} yet`} testId="rankings-no-results">
          <p>Try a longer time window or another class.</p>
          <p className="mt-1">{FIRST_STATS_HINT}</p>
        </Empty>
      ) : (
        <ol className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" data-testid="rankings-list" aria-label={`Streams ranked by ${what}`}>
          {items.map((item) => (
            <RankingCard key={item.stream.id} item={item} multi={objects.length > 1} />
          ))}
        </ol>
      )}
    </div>
  );
}

function RankingCard({ item, multi }: { item: RankingItem; multi: boolean }) {
  const s = item.stream;
  const name = streamLabel(s);
  const unique = item.per_object.reduce((sum, p) => sum + p.unique_objects, 0);
  // The evidence a number rests on; classes with fewer detections than the API's minimum are not ranked.
  const known = item.per_object.some((p) => p.detections != null);
  const detections = item.per_object.reduce((sum, p) => sum + (p.detections ?? 0), 0);
  const headingId = `rank-${s.id}-name`;
  return (
    <li className="card flex flex-col overflow-hidden" data-testid="ranking-card" data-stream-id={s.id} aria-labelledby={headingId}>
      <Link to={`/streams/${s.id}`} className="group relative block focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600" tabIndex={-1} aria-hidden="true">
        <Thumbnail src={s.snapshot_url} alt="" className="aspect-video w-full transition group-hover:opacity-90" />
        <span className="absolute left-2 top-2 rounded-md bg-slate-900/80 px-2 py-0.5 text-sm font-semibold text-white">#{item.rank}</span>
      </Link>
      <div className="flex flex-1 flex-col gap-3 p-4">
        <div className="flex items-start justify-between gap-2">
          <div className="min-w-0">
            <h2 id={headingId} className="truncate text-base font-semibold text-slate-900">
              <span className="sr-only">Rank {item.rank}: </span>
              <Link to={`/streams/${s.id}`} className="hover:underline focus-visible:rounded focus-visible:outline-2 focus-visible:outline-sky-600" data-testid="ranking-link">
                {name}
              </Link>
            </h2>
            <p className="truncate text-xs text-slate-500">
              {[s.channel, formatKind(s.kind)].filter(Boolean).join(" · ")} · last frame {formatRelative(s.last_frame_at)}
            </p>
          </div>
          <StatusBadge status={s.status} reason={s.status_reason} />
        </div>
        <dl className="grid grid-cols-3 gap-2 rounded-lg bg-slate-50 p-3 text-center">
          <div>
            <dt className="text-[11px] uppercase tracking-wide text-slate-500">Mean / frame</dt>
            <dd className="text-lg font-semibold tabular-nums text-slate-900" data-testid="ranking-score">{formatMean(item.score)}</dd>
          </div>
          <div>
            <dt className="text-[11px] uppercase tracking-wide text-slate-500">Unique</dt>
            <dd className="text-lg font-semibold tabular-nums text-slate-900" data-testid="ranking-unique">{formatInt(unique)}</dd>
          </div>
          <div>
            <dt className="text-[11px] uppercase tracking-wide text-slate-500">Frames</dt>
            <dd className="text-lg font-semibold tabular-nums text-slate-900" data-testid="ranking-frames">{formatInt(item.frames)}</dd>
          </div>
        </dl>
        {multi && item.per_object.length > 0 && (
          <table className="w-full text-sm" data-testid="ranking-breakdown">
            <caption className="sr-only">Per-class figures for {name}</caption>
            <thead>
              <tr className="text-left text-xs text-slate-500">
                <th scope="col" className="font-medium">Class</th>
                <th scope="col" className="text-right font-medium">Mean / frame</th>
                <th scope="col" className="text-right font-medium">Unique</th>
              </tr>
            </thead>
            <tbody>
              {item.per_object.map((p) => (
                <tr key={p.object} className="border-t border-slate-100">
                  <th scope="row" className="py-1 text-left font-normal text-slate-700">{p.object}</th>
                  <td className="py-1 text-right tabular-nums">{formatMean(p.mean_per_frame)}</td>
                  <td className="py-1 text-right tabular-nums">{formatInt(p.unique_objects)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="mt-auto text-xs text-slate-500" data-testid="ranking-evidence">
          Based on {known ? `${formatInt(detections)} detections in ` : ""}{formatInt(item.frames)} frames · observed for{" "}
          {formatMinutes(item.minutes_observed)}
        </p>
      </div>
    </li>
  );
}
