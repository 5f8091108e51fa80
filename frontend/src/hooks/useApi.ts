import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, isAbortError } from "../api/client";

export interface ApiState<T> {
  data: T | undefined;
  error: ApiError | null;
  /** True while a request for the current key is in flight (also during background refreshes). */
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `fetcher` whenever `key` changes (one request per key; the previous one is aborted).
 * `key === null` means "nothing to fetch". Data of the same key is kept during a reload so
 * the view does not flash; data of another key is never shown.
 */
export function useApi<T>(
  key: string | null,
  fetcher: (signal: AbortSignal) => Promise<T>,
  opts: { refreshMs?: number } = {},
): ApiState<T> {
  const [state, setState] = useState<{ key: string | null; data?: T; error: ApiError | null; loading: boolean }>(
    { key, error: null, loading: key !== null },
  );
  const [tick, setTick] = useState(0);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;

  useEffect(() => {
    if (key === null) {
      setState({ key, error: null, loading: false });
      return;
    }
    const ctrl = new AbortController();
    setState((prev) =>
      prev.key === key ? { ...prev, loading: true } : { key, data: undefined, error: null, loading: true },
    );
    fetcherRef
      .current(ctrl.signal)
      .then((data) => {
        if (!ctrl.signal.aborted) setState({ key, data, error: null, loading: false });
      })
      .catch((err: unknown) => {
        if (ctrl.signal.aborted || isAbortError(err)) return;
        const error = err instanceof ApiError ? err : new ApiError(0, err instanceof Error ? err.message : String(err));
        setState((prev) => ({ key, data: prev.key === key ? prev.data : undefined, error, loading: false }));
      });
    return () => ctrl.abort();
  }, [key, tick]);

  const refreshMs = opts.refreshMs;
  useEffect(() => {
    if (!refreshMs || key === null) return;
    const id = window.setInterval(() => {
      if (document.visibilityState !== "hidden") setTick((t) => t + 1);
    }, refreshMs);
    return () => window.clearInterval(id);
  }, [refreshMs, key]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : null,
    loading: current ? state.loading : key !== null,
    reload,
  };
}
