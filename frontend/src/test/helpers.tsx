import { render } from "@testing-library/react";
import { MemoryRouter, useLocation } from "react-router";
import { vi } from "vitest";
import { AppRoutes } from "../App";
import type { Stream } from "../api/types";

export interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

type Reply = { status?: number; json?: unknown; text?: string };
/** A handler returns a reply, or a rejected promise to simulate a network failure. */
type Handler = (call: Call) => Reply | Promise<never>;

/**
 * Stubs global fetch with a table of "METHOD /path" handlers (the query string is ignored for
 * matching but recorded). Unmatched requests answer 404 in the contract's error shape.
 */
export function stubFetch(routes: Record<string, Handler | Reply>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const method = (init.method ?? "GET").toUpperCase();
    const headers = (init.headers ?? {}) as Record<string, string>;
    const call: Call = { method, url, headers, body: init.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const path = url.split("?")[0];
    const route = routes[`${method} ${path}`];
    if (!route) {
      return new Response(JSON.stringify({ error: { status: 404, message: `no stub for ${method} ${path}`, field: null } }), { status: 404 });
    }
    const reply = typeof route === "function" ? route(call) : route;
    if (reply instanceof Promise) return reply;
    const status = reply.status ?? 200;
    if (status === 204) return new Response(null, { status });
    const body = reply.text ?? JSON.stringify(reply.json ?? {});
    return new Response(body, { status, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock, gets: (prefix: string) => calls.filter((c) => c.method === "GET" && c.url.startsWith(prefix)) };
}

function LocationProbe() {
  const loc = useLocation();
  return <output data-testid="location">{`${loc.pathname}${loc.search}`}</output>;
}

export function renderApp(route: string) {
  return render(
    <MemoryRouter initialEntries={[route]}>
      <AppRoutes />
      <LocationProbe />
    </MemoryRouter>,
  );
}

export function makeStream(over: Partial<Stream> = {}): Stream {
  return {
    id: 3,
    canonical_id: "youtube:dQw4w9WgXcQ",
    url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    kind: "youtube",
    name: "Times Square",
    title: "Times Square live cam",
    channel: "EarthCam",
    is_live: true,
    fps: 1,
    status: "live",
    status_reason: null,
    created_at: "2026-11-23T10:00:00Z",
    last_frame_at: "2026-11-23T18:00:00Z",
    snapshot_url: "/api/streams/3/snapshot",
    ...over,
  };
}

export const OBJECTS = {
  items: [
    { object: "person", rank: 1, mean_per_frame: 2.4, streams: 5, frames: 12000 },
    { object: "car", rank: 2, mean_per_frame: 1.1, streams: 4, frames: 11000 },
    { object: "traffic light", rank: 3, mean_per_frame: 0.6, streams: 3, frames: 9000 },
    { object: "truck", rank: 4, mean_per_frame: 0.2, streams: 2, frames: 8000 },
  ],
};
