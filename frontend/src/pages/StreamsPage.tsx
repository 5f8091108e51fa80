import { useLocation, useNavigate } from "react-router";
import { getStreams } from "../api/client";
import { PageHeader } from "../components/Layout";
import { Empty, ErrorMessage, Loading } from "../components/States";
import { useApi } from "../hooks/useApi";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { formatInt } from "../lib/format";
import { PAGE_SIZE, parseStreamsQuery, serialiseStreamsQuery, type StreamsState } from "../lib/query";
import { useApiToken } from "../hooks/useApiToken";
import { TokenCard } from "../components/streams/TokenCard";
import { RegisterForm } from "../components/streams/RegisterForm";
import { FilterBar } from "../components/streams/FilterBar";
import { StreamRow } from "../components/streams/StreamRow";
import { Pager } from "../components/streams/Pager";

export function StreamsPage() {
  useDocumentTitle("Streams");
  const location = useLocation();
  const navigate = useNavigate();
  const state = parseStreamsQuery(location.search);
  const setState = (next: StreamsState) => navigate({ search: serialiseStreamsQuery(next) });

  const { token, tokenError, save, forget, onUnauthorised } = useApiToken();

  const listKey = `streams${serialiseStreamsQuery(state)}`;
  const list = useApi(listKey, (signal) =>
    getStreams({ status: state.status, q: state.q, limit: PAGE_SIZE, offset: (state.page - 1) * PAGE_SIZE }, signal),
  );

  return (
    <section aria-labelledby="streams-title" data-testid="view-streams">
      <PageHeader title={<span id="streams-title">Manage streams</span>} subtitle="Register livestream URLs, pause, resume or remove them." />

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <div className="flex flex-col gap-6">
          <TokenCard token={token} error={tokenError} onSave={save} onForget={forget} />
          <RegisterForm token={token} onUnauthorised={onUnauthorised} onCreated={list.reload} />
        </div>

        <div className="min-w-0 lg:col-span-2">
          <FilterBar state={state} onChange={setState} />
          {list.error && !list.data ? (
            <ErrorMessage title="Could not load the streams" error={list.error} onRetry={list.reload} />
          ) : !list.data ? (
            <Loading label="Loading streams…" />
          ) : list.data.items.length === 0 ? (
            <Empty title={state.q || state.status ? "No stream matches these filters" : "No streams registered yet"} testId="streams-empty">
              {state.q || state.status ? "Clear the filters to see all streams." : "Register one with the form."}
            </Empty>
          ) : (
            <>
              <p className="mb-2 text-sm text-slate-600" role="status" aria-live="polite" data-testid="streams-count">
                {formatInt(list.data.total)} {list.data.total === 1 ? "stream" : "streams"}
                {list.loading && <span className="ml-2 text-slate-400">Updating…</span>}
              </p>
              <ul className="card divide-y divide-slate-100" data-testid="streams-list" aria-label="Registered streams">
                {list.data.items.map((s) => (
                  <StreamRow key={s.id} stream={s} token={token} onChanged={list.reload} onUnauthorised={onUnauthorised} />
                ))}
              </ul>
              <Pager page={state.page} total={list.data.total} onPage={(page) => setState({ ...state, page })} />
            </>
          )}
        </div>
      </div>
    </section>
  );
}
