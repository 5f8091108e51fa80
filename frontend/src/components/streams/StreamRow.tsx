import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { ApiError, deleteStream, updateStream } from "../../api/client";
import { type Stream } from "../../api/types";
import { StatusBadge } from "../StatusBadge";
import { Thumbnail } from "../Thumbnail";
import { formatFps, formatKind, formatRelative, streamLabel } from "../../lib/format";

export function StreamRow({ stream: s, token, onChanged, onUnauthorised }: { stream: Stream; token: string | null; onChanged: () => void; onUnauthorised: (e: ApiError) => void }) {
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
