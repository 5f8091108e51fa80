import { useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { CONDITIONS, createAlertRule, type AlertCondition, type AlertRuleCreated } from "../../api/alerts";

type Field = "name" | "condition" | "object_class" | "threshold" | "minutes" | "stream_ids" | "webhook_url" | "cooldown_s";
const FIELDS: readonly string[] = ["name", "condition", "object_class", "threshold", "minutes", "stream_ids", "webhook_url", "cooldown_s"];

/** Create a rule; the answer's signing secret is shown once, here. */
export function RuleForm({ token, onUnauthorised, onCreated }: { token: string | null; onUnauthorised: (e: ApiError) => void; onCreated: () => void }) {
  const [name, setName] = useState("");
  const [condition, setCondition] = useState<AlertCondition>("count_above");
  const [objectClass, setObjectClass] = useState("person");
  const [threshold, setThreshold] = useState("5");
  const [minutes, setMinutes] = useState("3");
  const [streams, setStreams] = useState("");
  const [webhook, setWebhook] = useState("");
  const [cooldown, setCooldown] = useState("600");
  const [slack, setSlack] = useState(false);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [created, setCreated] = useState<AlertRuleCreated | null>(null);
  const needsMinutes = condition !== "anomaly_score";
  const needsClass = condition !== "stream_down";
  const needsThreshold = condition !== "stream_down";

  async function submit(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    setCreated(null);
    const streamIds = streams.trim() ? streams.split(/[\s,]+/).filter(Boolean).map(Number) : null;
    if (streamIds && streamIds.some((n) => !Number.isInteger(n) || n < 1)) {
      setErrors({ stream_ids: "Enter stream ids separated by commas, or leave empty for all streams." });
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const rule = await createAlertRule(
        {
          name: name.trim(),
          condition,
          object_class: needsClass ? objectClass.trim() : "",
          threshold: needsThreshold ? Number(threshold) : 0,
          minutes: needsMinutes ? Number(minutes) : 0,
          stream_ids: streamIds,
          webhook_url: webhook.trim(),
          payload_format: slack ? "slack" : "json",
          cooldown_s: cooldown.trim() ? Number(cooldown) : null,
        },
        token,
      );
      setCreated(rule);
      setName("");
      onCreated();
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(0, String(err));
      if (apiErr.status === 401) {
        onUnauthorised(apiErr);
        setFormError("The API rejected the token. Enter it again above, then submit.");
      } else if (apiErr.field && FIELDS.includes(apiErr.field)) {
        setErrors({ [apiErr.field]: apiErr.message });
      } else {
        setFormError(apiErr.message);
      }
    } finally {
      setBusy(false);
    }
  }

  const err = (f: Field) =>
    errors[f] ? (
      <p id={`rule-${f}-error`} className="field-error" data-testid={`rule-${f}-error`}>
        {errors[f]}
      </p>
    ) : null;
  const aria = (f: Field) => ({ "aria-invalid": errors[f] ? true : undefined, "aria-describedby": errors[f] ? `rule-${f}-error` : undefined });

  return (
    <section className="card p-4 sm:p-5" aria-labelledby="rule-form-title" data-testid="rule-form-card">
      <h2 id="rule-form-title" className="mb-3 text-base font-semibold text-slate-900">
        New alert rule
      </h2>
      <form onSubmit={submit} noValidate className="flex flex-col gap-3" data-testid="rule-form">
        <div>
          <label htmlFor="rule-name" className="field-label">Name</label>
          <input id="rule-name" data-testid="rule-name" className="field-input" value={name} onChange={(e) => setName(e.target.value)} {...aria("name")} />
          {err("name")}
        </div>
        <div>
          <label htmlFor="rule-condition" className="field-label">Condition</label>
          <select id="rule-condition" data-testid="rule-condition" className="field-input" value={condition} onChange={(e) => setCondition(e.target.value as AlertCondition)}>
            {CONDITIONS.map((c) => (
              <option key={c.value} value={c.value}>{c.label}</option>
            ))}
          </select>
          {err("condition")}
        </div>
        {needsClass && (
          <div>
            <label htmlFor="rule-class" className="field-label">Object class {condition === "anomaly_score" && <span className="font-normal text-slate-500">(empty: any)</span>}</label>
            <input id="rule-class" data-testid="rule-class" className="field-input" value={objectClass} onChange={(e) => setObjectClass(e.target.value)} {...aria("object_class")} />
            {err("object_class")}
          </div>
        )}
        <div className="grid grid-cols-2 gap-3">
          {needsThreshold && (
            <div>
              <label htmlFor="rule-threshold" className="field-label">{condition === "anomaly_score" ? "Score k" : "Per frame"}</label>
              <input id="rule-threshold" data-testid="rule-threshold" type="number" step="any" className="field-input" value={threshold} onChange={(e) => setThreshold(e.target.value)} {...aria("threshold")} />
              {err("threshold")}
            </div>
          )}
          {needsMinutes && (
            <div>
              <label htmlFor="rule-minutes" className="field-label">Minutes</label>
              <input id="rule-minutes" data-testid="rule-minutes" type="number" className="field-input" value={minutes} onChange={(e) => setMinutes(e.target.value)} {...aria("minutes")} />
              {err("minutes")}
            </div>
          )}
        </div>
        <div>
          <label htmlFor="rule-streams" className="field-label">Stream ids <span className="font-normal text-slate-500">(empty: all)</span></label>
          <input id="rule-streams" data-testid="rule-streams" className="field-input" placeholder="1, 2" value={streams} onChange={(e) => setStreams(e.target.value)} {...aria("stream_ids")} />
          {err("stream_ids")}
        </div>
        <div>
          <label htmlFor="rule-webhook" className="field-label">Webhook URL</label>
          <input id="rule-webhook" data-testid="rule-webhook" type="url" className="field-input" placeholder="https://hooks.example.com/…" value={webhook} onChange={(e) => setWebhook(e.target.value)} {...aria("webhook_url")} />
          {err("webhook_url")}
        </div>
        <div className="grid grid-cols-2 items-end gap-3">
          <div>
            <label htmlFor="rule-cooldown" className="field-label">Cooldown (s)</label>
            <input id="rule-cooldown" data-testid="rule-cooldown" type="number" className="field-input" value={cooldown} onChange={(e) => setCooldown(e.target.value)} {...aria("cooldown_s")} />
            {err("cooldown_s")}
          </div>
          <label className="flex items-center gap-2 pb-2 text-sm text-slate-700">
            <input type="checkbox" data-testid="rule-slack" checked={slack} onChange={(e) => setSlack(e.target.checked)} />
            Slack-compatible body
          </label>
        </div>
        <button type="submit" className="btn-primary" disabled={busy || !token} data-testid="rule-submit">
          {busy ? "Creating…" : "Create rule"}
        </button>
        {!token && <p className="text-xs text-slate-500">Save the API token first.</p>}
        {formError && (
          <p className="field-error" role="alert" data-testid="rule-form-error">
            {formError}
          </p>
        )}
        {created && (
          <div role="status" className="rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900" data-testid="rule-created">
            <p className="font-semibold">Rule “{created.name}” created.</p>
            <p className="mt-1">Signing secret — shown this once, store it with the receiver:</p>
            <code className="mt-1 block break-all rounded bg-white px-2 py-1 font-mono text-xs" data-testid="rule-secret">
              {created.secret}
            </code>
          </div>
        )}
      </form>
    </section>
  );
}
