import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { ObjectSeries } from "../api/types";
import { ObjectsChart, pickSeries, toChartRows } from "./ObjectsChart";

const pt = (t: string, mean: number, unique = 0) => ({ t, mean_per_frame: mean, max_per_frame: Math.ceil(mean), unique_objects: unique, frames: 60 });

const SERIES: ObjectSeries[] = [
  { object: "car", points: [pt("2026-11-23T10:00:00Z", 1), pt("2026-11-23T11:00:00Z", 2, 5)] },
  { object: "person", points: [pt("2026-11-23T11:00:00Z", 4, 9), pt("2026-11-23T09:00:00Z", 3, 1)] },
];

describe("toChartRows", () => {
  it("pivots series into time-sorted rows with null gaps", () => {
    expect(toChartRows(SERIES, "mean")).toEqual([
      { t: Date.parse("2026-11-23T09:00:00Z"), car: null, person: 3 },
      { t: Date.parse("2026-11-23T10:00:00Z"), car: 1, person: null },
      { t: Date.parse("2026-11-23T11:00:00Z"), car: 2, person: 4 },
    ]);
  });

  it("uses the selected metric", () => {
    expect(toChartRows(SERIES, "unique").map((r) => r.person)).toEqual([1, null, 9]);
  });
});

describe("pickSeries", () => {
  it("keeps the largest classes by the metric", () => {
    expect(pickSeries(SERIES, "mean", 1).map((s) => s.object)).toEqual(["person"]);
  });
});

describe("ObjectsChart", () => {
  it("renders an accessible figure with a data table", async () => {
    render(<ObjectsChart series={SERIES} metric="mean" spanHours={24} />);
    expect(screen.getByRole("img", { name: /line chart of mean objects per frame.*person, car/i })).toBeInTheDocument();
    await userEvent.click(screen.getByText("Show data as a table"));
    const table = screen.getByTestId("chart-table");
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Time (UTC)", "person", "car"]);
    expect(within(table).getAllByRole("row")).toHaveLength(4);
    expect(within(table).getByRole("rowheader", { name: "2026-11-23 09:00 UTC" }).parentElement).toHaveTextContent("3.00—");
  });
});

describe("ObjectsChart gaps", () => {
  it("names the bucket and reports missing buckets as gaps", () => {
    const gappy: ObjectSeries[] = [
      { object: "person", points: [pt("2026-11-23T02:00:00Z", 3), pt("2026-11-23T19:00:00Z", 1), pt("2026-11-23T20:00:00Z", 2)] },
    ];
    render(<ObjectsChart series={gappy} metric="mean" spanHours={24} bucket="hour" />);
    expect(screen.getByText(/mean objects per frame per hour \(UTC\)/i)).toBeInTheDocument();
    expect(screen.getByTestId("chart-gaps")).toHaveTextContent("1 gap: no frames processed");
  });

  it("shows no gap note for contiguous buckets", () => {
    render(<ObjectsChart series={SERIES} metric="mean" spanHours={24} bucket="hour" />);
    expect(screen.queryByTestId("chart-gaps")).toBeNull();
  });
});
