import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Trending } from "../api/types";
import { makeStream, OBJECTS, renderApp, stubFetch } from "../test/helpers";
import { formatAboveUsual } from "./TrendingPage";

const TRENDING: Trending = {
  object: null,
  hour: "2026-11-23T18:00:00Z",
  hour_of_week: 18,
  min_score: 0,
  analytics_built: true,
  items: [
    {
      rank: 1, stream: makeStream({ id: 2, name: "Shibuya Crossing" }), object: "person", observed: 5, expected: 1,
      mad: 0, score: 40, frames: 1200, detections: 6000, history_hours: 3, history_weeks: 3,
    },
    {
      rank: 2, stream: makeStream({ id: 1, name: "Times Square" }), object: "car", observed: 2, expected: 2,
      mad: 0.5, score: 0, frames: 600, detections: 1200, history_hours: 4, history_weeks: 4,
    },
  ],
};

describe("TrendingPage", () => {
  it("lists the streams in the API's order with their evidence", async () => {
    const api = stubFetch({ "GET /api/objects": { json: OBJECTS }, "GET /api/trending": { json: TRENDING } });
    renderApp("/trending");
    expect(screen.getByRole("heading", { level: 1, name: "Trending now" })).toBeInTheDocument();
    const rows = await screen.findAllByTestId("trending-row");
    expect(rows.map((r) => r.getAttribute("data-stream-id"))).toEqual(["2", "1"]);
    expect(within(rows[0]!).getByTestId("trending-link")).toHaveTextContent("Shibuya Crossing");
    expect(within(rows[0]!).getByTestId("trending-observed")).toHaveTextContent("5× usual");
    expect(rows[0]).toHaveTextContent("1,200 frames this hour · 3 weeks of history");
    expect(api.gets("/api/trending")[0]?.url).toBe("/api/trending");
  });

  it("asks for one class when one is picked", async () => {
    const api = stubFetch({ "GET /api/objects": { json: OBJECTS }, "GET /api/trending": { json: TRENDING } });
    renderApp("/trending");
    await screen.findAllByTestId("trending-row");
    await userEvent.selectOptions(screen.getByTestId("trending-class"), "person");
    expect(screen.getByTestId("location")).toHaveTextContent("/trending?object=person");
    await screen.findAllByTestId("trending-row");
    expect(api.gets("/api/trending").map((c) => c.url)).toContain("/api/trending?object=person");
  });

  it("says so when nothing is unusual and before the baselines exist", async () => {
    stubFetch({ "GET /api/objects": { json: OBJECTS }, "GET /api/trending": { json: { ...TRENDING, items: [] } } });
    renderApp("/trending");
    expect(await screen.findByTestId("trending-empty")).toHaveTextContent("Nothing is busier than usual");
  });

  it("formats how far above usual", () => {
    expect(formatAboveUsual(3, 1.5)).toBe("2× usual");
    expect(formatAboveUsual(1.25, 0)).toBe("+1.25 / frame");
  });
});
