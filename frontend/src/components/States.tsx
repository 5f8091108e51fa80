import type { ReactNode } from "react";
import type { ApiError } from "../api/client";

export function Loading({ label = "Loading…", children }: { label?: string; children?: ReactNode }) {
  return (
    <div role="status" aria-live="polite" data-testid="loading" className="py-2">
      <span className="sr-only">{label}</span>
      {children ?? (
        <div aria-hidden="true" className="space-y-3">
          <div className="h-4 w-1/3 animate-pulse rounded bg-slate-200" />
          <div className="h-4 w-2/3 animate-pulse rounded bg-slate-200" />
          <div className="h-4 w-1/2 animate-pulse rounded bg-slate-200" />
        </div>
      )}
    </div>
  );
}

export function ErrorMessage({ error, onRetry, title = "Something went wrong" }: { error: ApiError | Error; onRetry?: () => void; title?: string }) {
  return (
    <div role="alert" data-testid="error" className="rounded-lg border border-rose-200 bg-rose-50 p-4 text-sm text-rose-900">
      <p className="font-semibold">{title}</p>
      <p className="mt-1">{error.message}</p>
      {onRetry && (
        <button type="button" onClick={onRetry} className="btn-secondary mt-3">
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children, testId = "empty" }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div data-testid={testId} className="rounded-xl border border-dashed border-slate-300 bg-white px-6 py-10 text-center">
      <p className="font-medium text-slate-800">{title}</p>
      {children && <div className="mt-2 text-sm text-slate-600">{children}</div>}
    </div>
  );
}
