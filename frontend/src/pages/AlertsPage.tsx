import { useEffect } from "react";
import { listAlertRules } from "../api/alerts";
import { PageHeader } from "../components/Layout";
import { Empty, ErrorMessage, Loading } from "../components/States";
import { RuleForm } from "../components/alerts/RuleForm";
import { RuleRow } from "../components/alerts/RuleRow";
import { TokenCard } from "../components/streams/TokenCard";
import { useApi } from "../hooks/useApi";
import { useApiToken } from "../hooks/useApiToken";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

export function AlertsPage() {
  useDocumentTitle("Alerts");
  const { token, tokenError, save, forget, onUnauthorised } = useApiToken();
  // Rules are read with the token too (webhook URLs are often credentials): nothing to fetch without it.
  const rules = useApi(token ? `alert-rules-${token.length}` : null, (signal) => listAlertRules(token, signal));
  const rulesError = rules.error;
  useEffect(() => {
    if (rulesError?.status === 401) onUnauthorised(rulesError);
  }, [rulesError, onUnauthorised]);

  return (
    <section aria-labelledby="alerts-title" data-testid="view-alerts">
      <PageHeader
        title={<span id="alerts-title">Alerts</span>}
        subtitle="Rules that POST a signed webhook when a stream is busy, quiet, unusual or down; every delivery attempt is kept."
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <div className="flex flex-col gap-6">
          <TokenCard token={token} error={tokenError} onSave={save} onForget={forget} />
          <RuleForm token={token} onUnauthorised={onUnauthorised} onCreated={rules.reload} />
        </div>
        <div className="min-w-0 lg:col-span-2">
          {!token ? (
            <Empty title="Enter the API token to see the rules" testId="rules-need-token">
              Alert rules name webhook URLs, which are often secrets: they are shown to token holders only.
            </Empty>
          ) : rules.error && !rules.data ? (
            <ErrorMessage title="Could not load the rules" error={rules.error} onRetry={rules.reload} />
          ) : !rules.data ? (
            <Loading label="Loading rules…" />
          ) : rules.data.items.length === 0 ? (
            <Empty title="No alert rules yet" testId="rules-empty">
              Create one with the form.
            </Empty>
          ) : (
            <ul className="card divide-y divide-slate-100" data-testid="rules-list" aria-label="Alert rules">
              {rules.data.items.map((r) => (
                <RuleRow key={r.id} rule={r} token={token} onChanged={rules.reload} onUnauthorised={onUnauthorised} />
              ))}
            </ul>
          )}
        </div>
      </div>
    </section>
  );
}
