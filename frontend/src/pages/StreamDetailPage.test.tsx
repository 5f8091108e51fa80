import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { FakeEventSource } from "../test/eventSource";
import { makeStream, renderApp, stubFetch } from "../test/helpers";
import type { StreamDetail, StreamObjects } from "../api/types";

const DETAIL: StreamDetail = {
  ...makeStream({ status: "reconnecting", status_reason: "read timeout" }),
  health: {
    session_id: "s1",
    started_at: "2026-11-23T17:00:00Z",
    startup_seconds: 1.2,
    frames_read: 100,
    frames_published: 99,
    stalls: 0,
    reconnects: 1,
    width: 1280,
    height: 720,
    source_fps: 30,
    bitrate: 2_500_000,
    last_frame_at: "2026-11-23T18:00:00Z",
    last_error: "read timeout",
  },
  top_objects: [
    { object: "person", mean_per_frame: 3.2, max_per_frame: 9, unique_objects: 41 },
    { object: "traffic light", mean_per_frame: 1, max_per_frame: 2, unique_objects: 3 },
  ],
};

const SERIES: StreamObjects = {
  bucket: "hour",
  series: [
    { object: "person", points: [{ t: "2026-11-23T17:00:00Z", mean_per_frame: 2, max_per_frame: 5, unique_objects: 7, frames: 60 }] },
    { object: "traffic light", points: [{ t: "2026-11-23T17:00:00Z", mean_per_frame: 0.5, max_per_frame: 1, unique_objects: 1, frames: 60 }] },
  ],
};

describe("StreamDetailPage", () => {
  // The page is a lazy route (it carries the chart library): load the chunk before timing-sensitive tests.
  beforeAll(async () => {
    await import("./StreamDetailPage");
  });

  it("shows metadata, health, snapshot, top objects and the chart", async () => {
    const api = stubFetch({ "GET /api/streams/3": { json: DETAIL }, "GET /api/streams/3/objects": { json: SERIES } });
    renderApp("/streams/3");

    await screen.findByTestId("source-link");
    expect(screen.getByTestId("view-stream")).toHaveAttribute("aria-busy", "false");
    const title = screen.getByTestId("stream-title");
    expect(title).toHaveTextContent("Times Square");
    expect(within(title).getByTestId("status-badge")).toHaveAttribute("data-status", "reconnecting");
    expect(screen.getByTestId("source-link")).toHaveAttribute("href", DETAIL.url);
    expect(screen.getByRole("img", { name: "Latest annotated snapshot of Times Square" })).toHaveAttribute("src", "/api/streams/3/snapshot");
    expect(screen.getByTestId("health-facts")).toHaveTextContent("1280×720");
    expect(screen.getByTestId("health-facts")).toHaveTextContent("2.5 Mbit/s");
    expect(screen.getByTestId("health-last-error")).toHaveTextContent("read timeout");
    expect(screen.getAllByTestId("top-object-row").map((r) => r.getAttribute("data-object"))).toEqual(["person", "traffic light"]);

    expect(await screen.findByTestId("objects-chart")).toBeInTheDocument();
    const seriesCall = api.gets("/api/streams/3/objects")[0]!;
    const q = new URL(seriesCall.url, "http://x").searchParams;
    expect(q.get("bucket")).toBe("hour");
    const span = Date.parse(q.get("to")!) - Date.parse(q.get("from")!);
    expect(span).toBe(24 * 3600 * 1000);
    expect(document.title).toBe("Times Square · streamscope");
  });

  it("switches range and metric through the URL", async () => {
    const user = userEvent.setup();
    const api = stubFetch({ "GET /api/streams/3": { json: DETAIL }, "GET /api/streams/3/objects": { json: SERIES } });
    renderApp("/streams/3");
    await screen.findByTestId("objects-chart");
    await user.click(screen.getByRole("radio", { name: "last hour" }));
    expect(screen.getByTestId("location")).toHaveTextContent("/streams/3?range=1h");
    await waitFor(() => expect(api.gets("/api/streams/3/objects").at(-1)?.url).toContain("bucket=minute"));
    await user.selectOptions(screen.getByRole("combobox", { name: "Metric" }), "unique");
    expect(screen.getByTestId("location")).toHaveTextContent("/streams/3?range=1h&metric=unique");
    expect(await screen.findByRole("img", { name: /unique objects/i })).toBeInTheDocument();
  });

  it("shows a busy view with a placeholder title while loading", async () => {
    stubFetch({ "GET /api/streams/3": () => new Promise<never>(() => {}), "GET /api/streams/3/objects": () => new Promise<never>(() => {}) });
    renderApp("/streams/3");
    const view = await screen.findByTestId("view-stream");
    expect(view).toHaveAttribute("aria-busy", "true");
    expect(screen.getByTestId("stream-title")).toHaveTextContent("Stream 3");
    expect(within(view).getByRole("status")).toHaveTextContent("Loading stream…");
  });

  it("says when a stream does not exist", async () => {
    stubFetch({ "GET /api/streams/99": { status: 404, json: { error: { status: 404, message: "Stream not found", field: null } } } });
    renderApp("/streams/99");
    expect(await screen.findByRole("heading", { name: "Stream not found" })).toBeInTheDocument();
  });

  it("shows an empty chart state without data", async () => {
    stubFetch({ "GET /api/streams/3": { json: { ...DETAIL, health: null, top_objects: [] } }, "GET /api/streams/3/objects": { json: { bucket: "hour", series: [] } } });
    renderApp("/streams/3");
    expect(await screen.findByTestId("chart-empty")).toBeInTheDocument();
    expect(screen.getByTestId("stream-health")).toHaveTextContent("No reader session yet");
  });
});

describe("StreamDetailPage live updates", () => {
  beforeAll(async () => {
    await import("./StreamDetailPage");
  });
  afterEach(() => vi.unstubAllGlobals());

  it("follows the stream's events instead of polling and shows a status change and a new window", async () => {
    FakeEventSource.install();
    let status = "reconnecting";
    const api = stubFetch({
      "GET /api/streams/3": () => ({ json: { ...DETAIL, status, status_reason: null } }),
      "GET /api/streams/3/objects": { json: SERIES },
    });
    renderApp("/streams/3");
    const badge = () => within(screen.getByTestId("stream-title")).getByTestId("status-badge");
    await waitFor(() => expect(badge()).toHaveAttribute("data-status", "reconnecting"));
    const source = FakeEventSource.latest();
    expect(source.url).toBe("/api/streams/3/events");
    act(() => source.emit("hello", { position: 1 }, "1"));
    expect(screen.getByTestId("live-mode")).toHaveAttribute("data-mode", "live");
    expect(screen.getByTestId("live-mode")).toHaveTextContent("Live");

    status = "live";
    const seriesBefore = api.gets("/api/streams/3/objects").length;
    act(() => {
      source.emit("status", { stream_id: 3, status: "live" }, "2");
      source.emit("window", { stream_id: 3, window_end: "2026-11-23T18:01:00Z" }, "3");
    });
    await waitFor(() => expect(badge()).toHaveAttribute("data-status", "live"));
    expect(screen.getByTestId("live-last-window")).toHaveTextContent("Latest window");
    await waitFor(() => expect(api.gets("/api/streams/3/objects").length).toBe(seriesBefore + 1));
  });

  it("goes back to polling when the server refuses the event stream", async () => {
    FakeEventSource.install();
    stubFetch({ "GET /api/streams/3": { json: DETAIL }, "GET /api/streams/3/objects": { json: SERIES } });
    renderApp("/streams/3");
    await screen.findByTestId("live-mode");
    act(() => FakeEventSource.latest().fail(true));
    expect(screen.getByTestId("live-mode")).toHaveAttribute("data-mode", "polling");
    expect(screen.getByTestId("live-mode")).toHaveTextContent("Auto-refreshes every 30 s");
  });
});
