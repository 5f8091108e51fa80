import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { ApiError, createStream, deleteStream, getStreams, updateStream } from "../api/client";
import { STREAM_STATUSES, type Stream, type StreamStatus } from "../api/types";
import { PageHeader } from "../components/Layout";
import { Empty, ErrorMessage, Loading } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { Thumbnail } from "../components/Thumbnail";
import { useApi } from "../hooks/useApi";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { formatFps, formatInt, formatKind, formatRelative, streamLabel } from "../lib/format";
import { statusStyle } from "../lib/status";
import { PAGE_SIZE, parseStreamsQuery, serialiseStreamsQuery, type StreamsState } from "../lib/query";
import { clearToken, loadToken, saveToken } from "../lib/token";

export function StreamsPage() {
  useDocumentTitle("Streams");
  const location = useLocation();
  const navigate = useNavigate();
  const state = parseStreamsQuery(location.search);
  const setState = (next: StreamsState) => navigate({ search: serialiseStreamsQuery(next) });

  const [token, setToken] = useState<string | null>(() => loadToken());
  const [tokenError, setTokenError] = useState<string | null>(null);

  const onUnauthorised = (err: ApiError) => {
    clearToken();
    setToken(null);
    setTokenError(`${err.message}. Enter a valid API token.`);
  };

  const listKey = `streams${serialiseStreamsQuery(state)}`;
  const list = useApi(listKey, (signal) =>
    getStreams({ status: state.status, q: state.q, limit: PAGE_SIZE, offset: (state.page - 1) * PAGE_SIZE }, signal),
  );

  return (
    <section aria-labelledby="streams-title" data-testid="view-streams">
      <PageHeader title={<span id="streams-title">Manage streams</span>} subtitle="Register livestream URLs, pause, resume or remove them." />

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <div className="flex flex-col gap-6">
          <TokenCard
            token={token}
            error={tokenError}
            onSave={(t) => {
              saveToken(t);
              setToken(loadToken());
              setTokenError(null);
            }}
            onForget={() => {
              clearToken();
              setToken(null);
            }}
          />
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

function TokenCard({ token, error, onSave, onForget }: { token: string | null; error: string | null; onSave: (t: string) => void; onForget: () => void }) {
  const [value, setValue] = useState("");
  return (
    <section className="card p-4 sm:p-5" aria-labelledby="token-title" data-testid="token-card">
      <h2 id="token-title" className="mb-1 text-base font-semibold text-slate-900">
        API token
      </h2>
      {token ? (
        <div className="flex flex-wrap items-center justify-between gap-3">
          <p className="text-sm text-slate-600" data-testid="token-saved">
            Token saved for this browser tab.
          </p>
          <button type="button" className="btn-secondary" onClick={onForget} data-testid="token-forget">
            Forget token
          </button>
        </div>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (value.trim()) {
              onSave(value);
              setValue("");
            }
          }}
          noValidate
        >
          <p className="mb-3 text-sm text-slate-600">Writes need the operator token. It is kept in this tab only (sessionStorage).</p>
          <label htmlFor="api-token" className="field-label">
            Token
          </label>
          <div className="flex gap-2">
            <input
              id="api-token"
              data-testid="token-input"
              type="password"
              autoComplete="off"
              className="field-input"
              value={value}
              onChange={(e) => setValue(e.target.value)}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? "api-token-error" : undefined}
            />
            <button type="submit" className="btn-primary shrink-0" data-testid="token-save" disabled={!value.trim()}>
              Save
            </button>
          </div>
          {error && (
            <p id="api-token-error" className="field-error" role="alert" data-testid="token-error">
              {error}
            </p>
          )}
        </form>
      )}
    </section>
  );
}

type Fields = "url" | "name" | "fps";

function RegisterForm({ token, onUnauthorised, onCreated }: { token: string | null; onUnauthorised: (e: ApiError) => void; onCreated: () => void }) {
  const [url, setUrl] = useState("");
  const [name, setName] = useState("");
  const [fps, setFps] = useState("");
  const [check, setCheck] = useState(true);
  const [busy, setBusy] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<Fields, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [created, setCreated] = useState<Stream | null>(null);
  const refs = { url: useRef<HTMLInputElement>(null), name: useRef<HTMLInputElement>(null), fps: useRef<HTMLInputElement>(null) };
  const focusField = useRef<Fields | null>(null);

  useEffect(() => {
    if (focusField.current) {
      refs[focusField.current].current?.focus();
      focusField.current = null;
    }
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    setCreated(null);
    const errs: Partial<Record<Fields, string>> = {};
    if (!url.trim()) errs.url = "Enter the URL of a livestream or video.";
    const fpsNum = fps.trim() ? Number(fps) : undefined;
    if (fpsNum !== undefined && (!Number.isFinite(fpsNum) || fpsNum <= 0)) errs.fps = "Enter a positive number of frames per second.";
    setFieldErrors(errs);
    if (Object.keys(errs).length) {
      focusField.current = errs.url ? "url" : "fps";
      return;
    }
    setBusy(true);
    try {
      const s = await createStream(
        { url: url.trim(), ...(name.trim() ? { name: name.trim() } : {}), ...(fpsNum !== undefined ? { fps: fpsNum } : {}), check },
        token,
      );
      setCreated(s);
      setUrl("");
      setName("");
      setFps("");
      onCreated();
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(0, String(err));
      if (apiErr.status === 401) {
        onUnauthorised(apiErr);
        setFormError("The API rejected the token. Enter it again above, then submit.");
      } else if (apiErr.field === "url" || apiErr.field === "name" || apiErr.field === "fps") {
        setFieldErrors({ [apiErr.field]: apiErr.message });
        focusField.current = apiErr.field;
      } else if (apiErr.status === 409) {
        setFieldErrors({ url: apiErr.message });
        focusField.current = "url";
      } else {
        setFormError(apiErr.message);
      }
    } finally {
      setBusy(false);
    }
  }

  const fieldProps = (f: Fields) => ({
    "aria-invalid": fieldErrors[f] ? true : undefined,
    "aria-describedby": [fieldErrors[f] ? `${f}-error` : null, `${f}-hint`].filter(Boolean).join(" "),
  });
  const fieldError = (f: Fields) =>
    fieldErrors[f] ? (
      <p id={`${f}-error`} className="field-error" data-testid={`${f}-error`}>
        {fieldErrors[f]}
      </p>
    ) : null;

  return (
    <section className="card p-4 sm:p-5" aria-labelledby="register-title" data-testid="register-card">
      <h2 id="register-title" className="mb-3 text-base font-semibold text-slate-900">
        Register a stream
      </h2>
      <form onSubmit={submit} noValidate className="flex flex-col gap-4" data-testid="register-form" aria-describedby={!token ? "register-token-hint" : undefined}>
        <div>
          <label htmlFor="url" className="field-label">
            Stream URL <span className="text-rose-600" aria-hidden="true">*</span>
          </label>
          <input
            id="url"
            ref={refs.url}
            data-testid="url-input"
            type="url"
            inputMode="url"
            required
            autoComplete="url"
            placeholder="https://www.youtube.com/watch?v=…"
            className="field-input"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            {...fieldProps("url")}
          />
          <p id="url-hint" className="mt-1 text-xs text-slate-500">
            YouTube, HLS (.m3u8), RTSP, HTTP or file URL.
          </p>
          {fieldError("url")}
        </div>
        <div>
          <label htmlFor="name" className="field-label">
            Name <span className="font-normal text-slate-500">(optional)</span>
          </label>
          <input id="name" ref={refs.name} data-testid="name-input" type="text" className="field-input" value={name} onChange={(e) => setName(e.target.value)} {...fieldProps("name")} />
          <p id="name-hint" className="sr-only">
            Defaults to the source title.
          </p>
          {fieldError("name")}
        </div>
        <div>
          <label htmlFor="fps" className="field-label">
            Frames analysed per second <span className="font-normal text-slate-500">(optional)</span>
          </label>
          <input
            id="fps"
            ref={refs.fps}
            data-testid="fps-input"
            type="number"
            inputMode="decimal"
            min="0"
            step="0.1"
            placeholder="1.0"
            className="field-input"
            value={fps}
            onChange={(e) => setFps(e.target.value)}
            {...fieldProps("fps")}
          />
          <p id="fps-hint" className="sr-only">
            Defaults to the server setting.
          </p>
          {fieldError("fps")}
        </div>
        <label className="flex items-start gap-2 text-sm text-slate-700">
          <input type="checkbox" data-testid="check-input" checked={check} onChange={(e) => setCheck(e.target.checked)} className="mt-0.5 h-4 w-4 rounded border-slate-300 accent-sky-600" />
          <span>Check now that the source can be resolved (slower)</span>
        </label>
        {!token && (
          <p id="register-token-hint" className="text-sm text-amber-800">
            Enter the API token above first.
          </p>
        )}
        {formError && (
          <p role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-800" data-testid="form-error">
            {formError}
          </p>
        )}
        <button type="submit" className="btn-primary" disabled={busy} data-testid="register-submit">
          {busy ? "Registering…" : "Register stream"}
        </button>
        <div role="status" aria-live="polite">
          {created && (
            <p className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900" data-testid="register-success">
              Registered{" "}
              <Link to={`/streams/${created.id}`} className="link">
                {streamLabel(created)}
              </Link>
              .
            </p>
          )}
        </div>
      </form>
    </section>
  );
}

function FilterBar({ state, onChange }: { state: StreamsState; onChange: (s: StreamsState) => void }) {
  const [q, setQ] = useState(state.q);
  useEffect(() => setQ(state.q), [state.q]);
  return (
    <form
      role="search"
      aria-label="Filter streams"
      className="mb-4 flex flex-wrap items-end gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        onChange({ ...state, q, page: 1 });
      }}
    >
      <div className="min-w-[12rem] flex-1">
        <label htmlFor="streams-q" className="field-label">
          Search
        </label>
        <input id="streams-q" data-testid="streams-search" type="search" className="field-input" placeholder="Name, title or URL" value={q} onChange={(e) => setQ(e.target.value)} />
      </div>
      <div>
        <label htmlFor="streams-status" className="field-label">
          Status
        </label>
        <select
          id="streams-status"
          data-testid="streams-status"
          className="field-input"
          value={state.status ?? ""}
          onChange={(e) => onChange({ ...state, q, status: (e.target.value || null) as StreamStatus | null, page: 1 })}
        >
          <option value="">All</option>
          {STREAM_STATUSES.map((s) => (
            <option key={s} value={s}>
              {statusStyle(s).label}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="btn-secondary h-[38px]">
        Search
      </button>
    </form>
  );
}

function StreamRow({ stream: s, token, onChanged, onUnauthorised }: { stream: Stream; token: string | null; onChanged: () => void; onUnauthorised: (e: ApiError) => void }) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = streamLabel(s);
  const paused = s.status === "paused";
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);

  async function act(fn: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await fn();
      setConfirming(false);
      onChanged();
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(0, String(err));
      if (apiErr.status === 401) onUnauthorised(apiErr);
      setError(apiErr.message);
    } finally {
      setBusy(false);
    }
  }

  const disabled = busy || !token;
  return (
    <li className="flex flex-wrap items-center gap-3 p-3 sm:flex-nowrap sm:gap-4 sm:p-4" data-testid="stream-row" data-stream-id={s.id} data-status={s.status}>
      <Thumbnail src={s.snapshot_url} alt="" className="h-14 w-24 shrink-0 rounded-md" />
      <div className="min-w-0 flex-1 basis-40">
        <div className="flex flex-wrap items-center gap-2">
          <Link to={`/streams/${s.id}`} className="truncate font-medium text-slate-900 hover:underline focus-visible:rounded focus-visible:outline-2 focus-visible:outline-sky-600" data-testid="stream-link">
            {name}
          </Link>
          <StatusBadge status={s.status} reason={s.status_reason} />
        </div>
        <p className="truncate text-xs text-slate-500" title={s.url}>
          {formatKind(s.kind)} · {formatFps(s.fps)} · last frame {formatRelative(s.last_frame_at)} · {s.url}
        </p>
        {error && (
          <p role="alert" className="mt-1 text-sm text-rose-700" data-testid="row-error">
            {error}
          </p>
        )}
      </div>
      <div className="flex w-full shrink-0 flex-wrap justify-end gap-2 sm:w-auto" role="group" aria-label={`Actions for ${name}`}>
        {confirming ? (
          <>
            <button ref={confirmRef} type="button" className="btn-danger" disabled={disabled} onClick={() => act(() => deleteStream(s.id, token))} data-testid="confirm-remove">
              {busy ? "Removing…" : "Confirm remove"}
            </button>
            <button type="button" className="btn-secondary" disabled={busy} onClick={() => setConfirming(false)} data-testid="cancel-remove">
              Cancel
            </button>
          </>
        ) : (
          <>
            <button
              type="button"
              className="btn-secondary"
              disabled={disabled}
              title={!token ? "Enter the API token first" : undefined}
              aria-label={`${paused ? "Resume" : "Pause"} ${name}`}
              onClick={() => act(() => updateStream(s.id, { paused: !paused }, token))}
              data-testid={paused ? "resume-stream" : "pause-stream"}
            >
              {paused ? "Resume" : "Pause"}
            </button>
            <button
              type="button"
              className="btn-secondary text-rose-700"
              disabled={disabled}
              title={!token ? "Enter the API token first" : undefined}
              aria-label={`Remove ${name}`}
              onClick={() => setConfirming(true)}
              data-testid="remove-stream"
            >
              Remove
            </button>
          </>
        )}
      </div>
    </li>
  );
}

function Pager({ page, total, onPage }: { page: number; total: number; onPage: (p: number) => void }) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (pages <= 1) return null;
  return (
    <nav aria-label="Pagination" className="mt-4 flex items-center justify-between text-sm">
      <button type="button" className="btn-secondary" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span className="text-slate-600">
        Page {page} of {pages}
      </span>
      <button type="button" className="btn-secondary" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}
