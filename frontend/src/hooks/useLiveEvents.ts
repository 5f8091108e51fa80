import { useEffect, useRef, useState } from "react";
import { API_PREFIX } from "../api/client";

/** What the API announces (api/routers/events.py); `reset` means "reload everything". */
export const LIVE_KINDS = ["status", "window", "anomaly", "alert", "reset"] as const;
export type LiveKind = (typeof LIVE_KINDS)[number];

export interface LiveEvent {
  kind: LiveKind;
  id: string;
  data: Record<string, unknown> & { stream_id?: number };
}

/** `live`: the event stream is open; `polling`: it is not (refused, unsupported, reconnecting): poll instead. */
export type LiveMode = "connecting" | "live" | "polling";

export interface LiveOptions {
  /** Events arriving within this many ms are handed over together (a window closes for many streams at once). */
  batchMs?: number;
  /** After the server refused the stream (Lambda: 501, the bound: 503), try again this much later. */
  retryAfterMs?: number;
}

/**
 * Follows `/api<path>` as server-sent events and calls `onEvents` with each batch. While the stream is not open
 * the mode is `polling`, so the page keeps its interval refresh: SSE replaces polling only while it works.
 * EventSource reconnects by itself after a dropped connection (sending Last-Event-ID); a refusal (an error
 * answer, e.g. on the Lambda deployment) closes it, and it is retried after `retryAfterMs`.
 */
export function useLiveEvents(
  path: string | null,
  onEvents: (events: LiveEvent[]) => void,
  { batchMs = 500, retryAfterMs = 120_000 }: LiveOptions = {},
): { mode: LiveMode; last?: LiveEvent } {
  const [mode, setMode] = useState<LiveMode>(path && typeof EventSource !== "undefined" ? "connecting" : "polling");
  const [last, setLast] = useState<LiveEvent>();
  const onEventsRef = useRef(onEvents);
  onEventsRef.current = onEvents;

  useEffect(() => {
    if (!path || typeof EventSource === "undefined") {
      setMode("polling");
      return;
    }
    let source: EventSource | null = null;
    let retry: number | undefined;
    let flush: number | undefined;
    let pending: LiveEvent[] = [];
    let closed = false;

    const deliver = () => {
      flush = undefined;
      const batch = pending;
      pending = [];
      if (batch.length && !closed) onEventsRef.current(batch);
    };
    const open = () => {
      source = new EventSource(`${API_PREFIX}${path}`);
      setMode("connecting");
      source.addEventListener("hello", () => setMode("live"));
      for (const kind of LIVE_KINDS) {
        source.addEventListener(kind, (message) => {
          const { data, lastEventId } = message as MessageEvent<string>;
          let parsed: LiveEvent["data"] = {};
          try {
            parsed = JSON.parse(data) as LiveEvent["data"];
          } catch {
            /* a malformed event still means "something changed" */
          }
          const event: LiveEvent = { kind, id: lastEventId, data: parsed };
          setLast(event);
          pending.push(event);
          if (flush === undefined) flush = window.setTimeout(deliver, batchMs);
        });
      }
      source.onerror = () => {
        if (!source) return;
        setMode("polling");
        if (source.readyState === EventSource.CLOSED) {
          source.close();
          source = null;
          retry = window.setTimeout(open, retryAfterMs);
        }
      };
    };
    open();
    return () => {
      closed = true;
      source?.close();
      window.clearTimeout(retry);
      window.clearTimeout(flush);
    };
  }, [path, batchMs, retryAfterMs]);

  return { mode, last };
}
