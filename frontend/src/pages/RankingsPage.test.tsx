import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeEventSource } from "../test/eventSource";
import { makeStream, OBJECTS, renderApp, stubFetch } from "../test/helpers";
import type { Rankings } from "../api/types";

const RANKINGS: Rankings = {
  objects: ["person", "traffic light"],
  window: "24h",
  items: [
    {
      rank: 1,
      stream: makeStream(),
      score: 5.1,
      frames: 1440,
      minutes_observed: 24,
      per_object: [
        { object: "person", mean_per_frame: 4, max_per_frame: 9, unique_objects: 120, detections: 5760 },
        { object: "traffic light", mean_per_frame: 1.1, max_per_frame: 3, unique_objects: 6, detections: 1584 },
      ],
    },
    {
      rank: 2,
      stream: makeStream({ id: 7, name: "Abbey Road", status: "reconnecting", snapshot_url: null }),
      score: 2,
      frames: 700,
      minutes_observed: 11.5,
      per_object: [
        { object: "person", mean_per_frame: 2, max_per_frame: 5, unique_objects: 30 },
        { object: "traffic light", mean_per_frame: 0, max_per_frame: 0, unique_objects: 0 },
      ],
    },
  ],
};

describe("RankingsPage", () => {
  it("says the rankings are being prepared before the first dbt build, not an error", async () => {
    stubFetch({
      "GET /api/objects": { json: { window: "24h", items: [], analytics_built: false } },
      "GET /api/rankings": { json: { objects: ["person"], window: "24h", items: [], analytics_built: false } },
    });
    renderApp("/?object=person");
    expect(await screen.findByTestId("analytics-not-built")).toHaveTextContent("being prepared");
    expect(screen.queryByTestId("error")).not.toBeInTheDocument();
  });

  it("loads rankings for the classes in the URL with one request and renders cards", async () => {
    const api = stubFetch({ "GET /api/objects": { json: OBJECTS }, "GET /api/rankings": { json: RANKINGS } });
    renderApp("/?object=person&object=traffic%20light&window=24h");

    expect(screen.getByRole("heading", { level: 1, name: "Stream rankings" })).toBeInTheDocument();
    expect(screen.getByTestId("loading")).toBeInTheDocument();
    const cards = await screen.findAllByTestId("ranking-card");
    expect(cards).toHaveLength(2);

    expect(api.gets("/api/rankings")).toHaveLength(1);
    expect(api.gets("/api/rankings")[0]?.url).toBe("/api/rankings?object=person&object=traffic%20light&window=24h");
    // no request per card: only /objects and /rankings were fetched
    expect(api.calls.map((c) => c.url.split("?")[0]).sort()).toEqual(["/api/objects", "/api/rankings"]);

    const first = within(cards[0]!);
    expect(first.getByRole("link", { name: "Times Square" })).toHaveAttribute("href", "/streams/3");
    expect(first.getByTestId("ranking-score")).toHaveTextContent("5.10");
    expect(first.getByTestId("ranking-unique")).toHaveTextContent("126");
    expect(first.getByTestId("ranking-frames")).toHaveTextContent("1,440");
    expect(first.getByTestId("ranking-evidence")).toHaveTextContent("Based on 7,344 detections in 1,440 frames");
    expect(first.getByTestId("status-badge")).toHaveAttribute("data-status", "live");
    expect(first.getByTestId("snapshot")).toHaveAttribute("src", "/api/streams/3/snapshot");
    expect(first.getByTestId("ranking-breakdown")).toHaveTextContent("traffic light");

    const second = within(cards[1]!);
    expect(second.getByTestId("snapshot-placeholder")).toBeInTheDocument();
    expect(second.getByTestId("ranking-evidence")).toHaveTextContent("Based on 700 frames"); // no counts given
    expect(second.getByTestId("status-badge")).toHaveTextContent("Reconnecting");
    expect(screen.getByTestId("rankings-summary")).toHaveTextContent("2 streams ranked by mean person and traffic light per frame over the last 24 hours");
  });

  it("opens on the most common class when the URL names none", async () => {
    const api = stubFetch({ "GET /api/objects": { json: OBJECTS }, "GET /api/rankings": { json: RANKINGS } });
    renderApp("/");
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/?object=person&window=24h"));
    expect(await screen.findAllByTestId("ranking-card")).toHaveLength(2);
    expect(api.gets("/api/rankings")[0]?.url).toBe("/api/rankings?object=person&window=24h");
  });

  it("says when the first statistics arrive while there are none", async () => {
    const api = stubFetch({ "GET /api/objects": { json: { items: [] } } });
    renderApp("/");
    const waiting = await screen.findByTestId("rankings-waiting");
    expect(waiting).toHaveTextContent("about a minute after a stream starts");
    expect(api.gets("/api/rankings")).toHaveLength(0);
  });

  it("adds a class from the search box and puts it in the URL", async () => {
    const user = userEvent.setup();
    const api = stubFetch({
      "GET /api/objects": { json: OBJECTS },
      "GET /api/rankings": { json: { objects: ["traffic light"], window: "24h", items: [] } },
    });
    renderApp("/?object=truck");
    await screen.findByTestId("rankings-no-results");

    const box = screen.getByRole("combobox", { name: "Object classes" });
    await user.type(box, "traffic");
    await user.click(await screen.findByRole("option", { name: "traffic light" }));

    expect(screen.getByTestId("location")).toHaveTextContent("/?object=truck&object=traffic%20light&window=24h");
    await waitFor(() =>
      expect(api.gets("/api/rankings").map((c) => c.url)).toContain("/api/rankings?object=truck&object=traffic%20light&window=24h"),
    );
    expect(screen.getByTestId("rankings-no-results")).toHaveTextContent("about a minute after a stream starts");
  });

  it("changes the window through the radio group", async () => {
    const user = userEvent.setup();
    const api = stubFetch({ "GET /api/objects": { json: OBJECTS }, "GET /api/rankings": { json: RANKINGS } });
    renderApp("/?object=person");
    await screen.findAllByTestId("ranking-card");
    await user.click(screen.getByRole("radio", { name: "last 7 days" }));
    expect(screen.getByTestId("location")).toHaveTextContent("/?object=person&window=7d");
    await waitFor(() => expect(api.gets("/api/rankings").map((c) => c.url)).toContain("/api/rankings?object=person&window=7d"));
  });

  it("shows the API's error with a retry", async () => {
    const user = userEvent.setup();
    let fail = true;
    stubFetch({
      "GET /api/objects": { json: OBJECTS },
      "GET /api/rankings": () => (fail ? { status: 503, json: { error: { status: 503, message: "Database unavailable", field: null } } } : { json: RANKINGS }),
    });
    renderApp("/?object=person");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Database unavailable");
    fail = false;
    await user.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findAllByTestId("ranking-card")).toHaveLength(2);
  });
});

describe("RankingsPage live updates", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("reloads the rankings when windows arrive on the all-streams event stream", async () => {
    FakeEventSource.install();
    const api = stubFetch({ "GET /api/objects": { json: OBJECTS }, "GET /api/rankings": { json: RANKINGS } });
    renderApp("/?object=person&object=traffic%20light&window=24h");
    await screen.findAllByTestId("ranking-card");
    const source = FakeEventSource.latest();
    expect(source.url).toBe("/api/events");
    act(() => source.emit("hello", { position: 1 }, "1"));
    expect(screen.getByTestId("live-mode")).toHaveAttribute("data-mode", "live");
    const before = api.gets("/api/rankings").length;
    act(() => {
      source.emit("window", { stream_id: 1 }, "2");
      source.emit("window", { stream_id: 7 }, "3");
    });
    // One reload for the batch (batchMs 2 s), not one per event.
    await waitFor(() => expect(api.gets("/api/rankings").length).toBe(before + 1));
    expect(api.gets("/api/rankings").length).toBe(before + 1);
  });
});
