import { useState } from "react";
import { ApiError } from "../../api/client";
import { deleteAlertRule, describeRule, getAlertHistory, setAlertRulePaused, type AlertRule } from "../../api/alerts";
import { useApi } from "../../hooks/useApi";
import { formatDateTime } from "../../lib/format";
import { ErrorMessage, Loading } from "../States";

function History({ rule, token }: { rule: AlertRule; token: string | null }) {
  // Refreshed every 5 s while open: a firing and its attempts appear without a reload.
  const history = useApi(`alert-history-${rule.id}`, (signal) => getAlertHistory(rule.id, token, signal), { refreshMs: 5000 });
  if (history.error && !history.data) return <ErrorMessage title="Could not load the history" error={history.error} onRetry={history.reload} />;
  if (!history.data) return <Loading label="Loading deliveries…" />;
  if (history.data.items.length === 0) return <p className="text-sm text-slate-500" data-testid="history-empty">Not fired yet.</p>;
  return (
    <ul className="flex flex-col gap-2" data-testid="history-list">
      {history.data.items.map((f) => (
        <li key={f.id} className="rounded-md border border-slate-200 p-2 text-sm" data-testid="firing" data-state={f.state}>
          <div className="flex flex-wrap justify-between gap-2">
            <span className="font-medium text-slate-800">stream {f.stream_id}: {f.summary}</span>
            <span className={f.state === "delivered" ? "text-emerald-700" : f.state === "failed" ? "text-rose-700" : "text-amber-700"} data-testid="firing-state">
              {f.state}
            </span>
          </div>
          <p className="text-xs text-slate-500">fired {formatDateTime(f.fired_at)} · delivery id {f.delivery_id}</p>
          <table className="mt-1 w-full text-xs">
            <thead>
              <tr className="text-left text-slate-500">
                <th className="font-normal">Attempt</th>
                <th className="font-normal">Status</th>
                <th className="font-normal">HTTP</th>
                <th className="font-normal">Latency</th>
                <th className="font-normal">Error</th>
              </tr>
            </thead>
            <tbody>
              {f.attempts.map((a) => (
                <tr key={a.attempt} data-testid="attempt">
                  <td>{a.attempt}</td>
                  <td data-testid="attempt-status">{a.status}</td>
                  <td>{a.http_status ?? "—"}</td>
                  <td>{a.latency_ms == null ? "—" : `${Math.round(a.latency_ms)} ms`}</td>
                  <td className="break-all text-rose-700">{a.error ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </li>
      ))}
    </ul>
  );
}

export function RuleRow({ rule, token, onChanged, onUnauthorised }: { rule: AlertRule; token: string | null; onChanged: () => void; onUnauthorised: (e: ApiError) => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function act(action: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await action();
      onChanged();
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(0, String(err));
      if (apiErr.status === 401) onUnauthorised(apiErr);
      setError(apiErr.message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className="p-4" data-testid="rule-row" data-rule-id={rule.id}>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <p className="font-medium text-slate-900" data-testid="rule-name-text">{rule.name}</p>
          <p className="text-sm text-slate-600">
            {describeRule(rule)} · {rule.stream_ids ? `streams ${rule.stream_ids.join(", ")}` : "all streams"} · cooldown {rule.cooldown_s} s
            {rule.payload_format === "slack" ? " · Slack" : ""}
          </p>
          <p className="break-all text-xs text-slate-500">{rule.webhook_url}</p>
        </div>
        <div className="flex shrink-0 flex-wrap items-center gap-2">
          <span className={`rounded px-2 py-0.5 text-xs font-medium ${rule.paused ? "bg-slate-200 text-slate-700" : "bg-emerald-100 text-emerald-800"}`} data-testid="rule-state">
            {rule.paused ? "paused" : "active"}
          </span>
          <button type="button" className="btn-secondary" disabled={busy} data-testid="rule-toggle" onClick={() => act(() => setAlertRulePaused(rule.id, !rule.paused, token))}>
            {rule.paused ? "Resume" : "Pause"}
          </button>
          <button type="button" className="btn-secondary" data-testid="rule-history-toggle" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            {open ? "Hide deliveries" : "Deliveries"}
          </button>
          <button
            type="button"
            className="btn-danger"
            disabled={busy}
            data-testid="rule-delete"
            onClick={() => {
              if (window.confirm(`Delete the rule “${rule.name}” and its delivery history?`)) void act(() => deleteAlertRule(rule.id, token));
            }}
          >
            Delete
          </button>
        </div>
      </div>
      {error && (
        <p className="field-error" role="alert" data-testid="rule-error">
          {error}
        </p>
      )}
      {open && (
        <div className="mt-3" data-testid="rule-history">
          <History rule={rule} token={token} />
        </div>
      )}
    </li>
  );
}
