import { useState } from "react";

export function TokenCard({ token, error, onSave, onForget }: { token: string | null; error: string | null; onSave: (t: string) => void; onForget: () => void }) {
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
