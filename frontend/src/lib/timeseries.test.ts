import { describe, expect, it } from "vitest";
import { pivot, timeTicks, withGaps } from "./timeseries";

const H = 3_600_000;
const M = 60_000;
const at = (iso: string) => Date.parse(iso);

describe("pivot", () => {
  it("sorts rows by time and fills classes missing from a bucket with null", () => {
    const rows = pivot([
      { key: "car", points: [{ t: "2026-11-23T10:00:00Z", value: 1 }] },
      { key: "person", points: [{ t: "2026-11-23T11:00:00Z", value: 4 }, { t: "2026-11-23T09:00:00+00:00", value: 3 }] },
    ]);
    expect(rows.map((r) => r.t)).toEqual([at("2026-11-23T09:00:00Z"), at("2026-11-23T10:00:00Z"), at("2026-11-23T11:00:00Z")]);
    expect(rows.map((r) => [r.car, r.person])).toEqual([[null, 3], [1, null], [null, 4]]);
  });

  it("keeps zeros as data", () => {
    expect(pivot([{ key: "person", points: [{ t: "2026-11-23T10:00:00Z", value: 0 }] }])[0]?.person).toBe(0);
  });
});

describe("withGaps", () => {
  it("breaks the line once per run of missing hours (02:00, then 19:00 and 20:00)", () => {
    const rows = [at("2026-11-23T02:00:00Z"), at("2026-11-23T19:00:00Z"), at("2026-11-23T20:00:00Z")].map((t, i) => ({ t, person: i + 1 }));
    const { rows: drawn, gaps } = withGaps(rows, ["person"], "hour");
    expect(gaps).toBe(1);
    expect(drawn.map((r) => [r.t, r.person])).toEqual([
      [at("2026-11-23T02:00:00Z"), 1],
      [at("2026-11-23T03:00:00Z"), null],
      [at("2026-11-23T19:00:00Z"), 2],
      [at("2026-11-23T20:00:00Z"), 3],
    ]);
  });

  it("adds nothing between consecutive buckets", () => {
    const rows = [0, 1, 2].map((i) => ({ t: at("2026-11-23T10:00:00Z") + i * M, person: 1 }));
    expect(withGaps(rows, ["person"], "minute")).toEqual({ rows, gaps: 0 });
  });

  it("counts a gap for two missing minutes, with every class null in the gap row", () => {
    const t0 = at("2026-11-23T10:00:00Z");
    const rows = [{ t: t0, person: 2, car: 1 }, { t: t0 + M, person: 2, car: 1 }, { t: t0 + 4 * M, person: 3, car: 0 }];
    const { rows: drawn, gaps } = withGaps(rows, ["person", "car"], "minute");
    expect(gaps).toBe(1);
    expect(drawn[2]).toEqual({ t: t0 + 2 * M, person: null, car: null });
  });
});

describe("timeTicks", () => {
  it("puts ticks on whole hours, proportional to time", () => {
    const ticks = timeTicks(at("2026-11-23T02:00:00Z"), at("2026-11-23T20:00:00Z"), "hour");
    expect(ticks.length).toBeGreaterThan(1);
    expect(ticks.length).toBeLessThanOrEqual(6);
    for (const t of ticks) expect(t % H).toBe(0);
    const steps = ticks.slice(1).map((t, i) => t - (ticks[i] ?? 0));
    expect(new Set(steps).size).toBe(1);
  });

  it("never ticks finer than the bucket", () => {
    const ticks = timeTicks(at("2026-11-23T10:00:00Z"), at("2026-11-23T10:03:00Z"), "minute");
    for (const t of ticks) expect(t % M).toBe(0);
    expect(ticks[0]).toBe(at("2026-11-23T10:00:00Z"));
  });
});
