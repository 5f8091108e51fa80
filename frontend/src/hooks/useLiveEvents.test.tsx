import { act, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeEventSource } from "../test/eventSource";
import { useLiveEvents } from "./useLiveEvents";

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("useLiveEvents", () => {
  it("is live after the server's hello and hands events over in batches", () => {
    vi.useFakeTimers();
    FakeEventSource.install();
    const onEvents = vi.fn();
    const { result } = renderHook(() => useLiveEvents("/streams/3/events", onEvents, { batchMs: 100 }));
    const source = FakeEventSource.latest();
    expect(source.url).toBe("/api/streams/3/events");
    expect(result.current.mode).toBe("connecting");
    act(() => source.emit("hello", { position: 5 }, "5"));
    expect(result.current.mode).toBe("live");
    act(() => {
      source.emit("window", { stream_id: 3, window_end: "2026-12-02T12:01:00Z" }, "6");
      source.emit("status", { stream_id: 3, status: "live" }, "7");
    });
    expect(onEvents).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(100));
    expect(onEvents).toHaveBeenCalledTimes(1);
    expect(onEvents.mock.calls[0]![0].map((e: { kind: string; id: string }) => [e.kind, e.id])).toEqual([
      ["window", "6"],
      ["status", "7"],
    ]);
    expect(result.current.last).toMatchObject({ kind: "status", data: { status: "live" } });
  });

  it("falls back to polling while reconnecting and when refused, and tries again later", () => {
    vi.useFakeTimers();
    FakeEventSource.install();
    const { result } = renderHook(() => useLiveEvents("/events", () => {}, { retryAfterMs: 1_000 }));
    const first = FakeEventSource.latest();
    act(() => first.emit("hello"));
    act(() => first.fail(false)); // dropped: the browser reconnects by itself, meanwhile the page polls
    expect(result.current.mode).toBe("polling");
    act(() => first.emit("hello"));
    expect(result.current.mode).toBe("live");
    act(() => first.fail(true)); // refused (e.g. 501 on Lambda): closed for good
    expect(result.current.mode).toBe("polling");
    expect(FakeEventSource.instances).toHaveLength(1);
    act(() => vi.advanceTimersByTime(1_000));
    expect(FakeEventSource.instances).toHaveLength(2);
  });

  it("polls where EventSource does not exist and closes the stream on unmount", () => {
    vi.stubGlobal("EventSource", undefined);
    const { result } = renderHook(() => useLiveEvents("/events", () => {}));
    expect(result.current.mode).toBe("polling");
    vi.unstubAllGlobals();
    FakeEventSource.install();
    const { unmount } = renderHook(() => useLiveEvents("/events", () => {}));
    unmount();
    expect(FakeEventSource.latest().readyState).toBe(FakeEventSource.CLOSED);
  });
});
