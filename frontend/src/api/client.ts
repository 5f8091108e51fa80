import type {
  ApiHealth,
  Bucket,
  NewStream,
  ObjectList,
  RankingWindow,
  Rankings,
  Stream,
  StreamDetail,
  StreamList,
  StreamObjects,
  StreamPatch,
  StreamStatus,
  Trending,
} from "./types";

/** All endpoints live under this relative-to-origin prefix (same origin as the UI). */
export const API_PREFIX = "/api";

/**
 * An error from the API (or from reaching it). `status` is the HTTP status, or 0 when the
 * request never got an HTTP answer. `field` names the request field a validation error is about.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly field: string | null;

  constructor(status: number, message: string, field: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.field = field;
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof DOMException
    ? err.name === "AbortError"
    : typeof err === "object" && err !== null && (err as { name?: unknown }).name === "AbortError";
}

type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];

/**
 * Builds `?a=1&b=x%20y` with encodeURIComponent (spaces as %20, so "traffic light" survives any
 * server), repeating keys for arrays and skipping null/undefined/empty values.
 */
export function buildQuery(params: Record<string, QueryValue>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      const s = String(v);
      if (s === "") continue;
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(s)}`);
    }
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request",
  401: "Missing or wrong API token",
  403: "Forbidden",
  404: "Not found",
  409: "Already exists",
  422: "Invalid input",
  429: "Too many requests",
  500: "Server error",
  502: "API unavailable (bad gateway)",
  503: "API unavailable",
  504: "API timed out",
};

function fallbackMessage(status: number): string {
  return STATUS_TEXT[status] ?? `Request failed (HTTP ${status})`;
}

/** Extracts {error: {message, field}} (the contract) or FastAPI's default {detail} shapes. */
export function errorFromBody(status: number, body: unknown): ApiError {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const e = b.error;
    if (e && typeof e === "object") {
      const err = e as Record<string, unknown>;
      const message = typeof err.message === "string" && err.message ? err.message : fallbackMessage(status);
      const field = typeof err.field === "string" && err.field ? err.field : null;
      const st = typeof err.status === "number" ? err.status : status;
      return new ApiError(st, message, field);
    }
    if (typeof b.detail === "string") return new ApiError(status, b.detail);
    if (Array.isArray(b.detail) && b.detail.length > 0) {
      const first = b.detail[0] as { msg?: unknown; loc?: unknown };
      const loc = Array.isArray(first.loc) ? first.loc : [];
      const last = loc.length ? loc[loc.length - 1] : null;
      return new ApiError(
        status,
        typeof first.msg === "string" ? first.msg : fallbackMessage(status),
        typeof last === "string" ? last : null,
      );
    }
  }
  return new ApiError(status, fallbackMessage(status));
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "DELETE";
  body?: unknown;
  token?: string | null;
  signal?: AbortSignal;
}

/** Fetches `${API_PREFIX}${path}` and returns parsed JSON (undefined for 204). Throws ApiError. */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;

  let res: Response;
  try {
    res = await fetch(`${API_PREFIX}${path}`, {
      method: opts.method ?? "GET",
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (err) {
    if (isAbortError(err)) throw err;
    throw new ApiError(0, "Cannot reach the API. Check your connection and try again.");
  }

  if (res.status === 204) return undefined as T;

  const text = await res.text().catch(() => "");
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!res.ok) throw errorFromBody(res.status, body);
  if (body === undefined) {
    throw new ApiError(res.status, "The API sent a response that is not JSON.");
  }
  return body as T;
}

// ---- endpoints -------------------------------------------------------------------------------

export function getHealth(signal?: AbortSignal): Promise<ApiHealth> {
  return request<ApiHealth>("/health", { signal });
}

export function getObjects(signal?: AbortSignal): Promise<ObjectList> {
  return request<ObjectList>("/objects", { signal });
}

export function getRankings(
  objects: readonly string[],
  window: RankingWindow,
  opts: { limit?: number; signal?: AbortSignal } = {},
): Promise<Rankings> {
  const q = buildQuery({ object: objects, window, limit: opts.limit });
  return request<Rankings>(`/rankings${q}`, { signal: opts.signal });
}

/** The streams most above their own normal this hour (dbt's trending_now), optionally for one class. */
export function getTrending(opts: { object?: string | null; limit?: number; signal?: AbortSignal } = {}): Promise<Trending> {
  const q = buildQuery({ object: opts.object, limit: opts.limit });
  return request<Trending>(`/trending${q}`, { signal: opts.signal });
}

export interface StreamQuery {
  status?: StreamStatus | null;
  q?: string | null;
  limit?: number;
  offset?: number;
}

export function getStreams(query: StreamQuery = {}, signal?: AbortSignal): Promise<StreamList> {
  const q = buildQuery({
    status: query.status,
    q: query.q?.trim(),
    limit: query.limit,
    offset: query.offset,
  });
  return request<StreamList>(`/streams${q}`, { signal });
}

export function getStream(id: number | string, signal?: AbortSignal): Promise<StreamDetail> {
  return request<StreamDetail>(`/streams/${encodeURIComponent(String(id))}`, { signal });
}

export function getStreamObjects(
  id: number | string,
  range: { from?: string; to?: string; bucket?: Bucket } = {},
  signal?: AbortSignal,
): Promise<StreamObjects> {
  const q = buildQuery({ from: range.from, to: range.to, bucket: range.bucket });
  return request<StreamObjects>(`/streams/${encodeURIComponent(String(id))}/objects${q}`, { signal });
}

export function createStream(body: NewStream, token: string | null): Promise<Stream> {
  return request<Stream>("/streams", { method: "POST", body, token });
}

export function updateStream(id: number, patch: StreamPatch, token: string | null): Promise<Stream> {
  return request<Stream>(`/streams/${id}`, { method: "PATCH", body: patch, token });
}

export function deleteStream(id: number, token: string | null): Promise<void> {
  return request<void>(`/streams/${id}`, { method: "DELETE", token });
}
