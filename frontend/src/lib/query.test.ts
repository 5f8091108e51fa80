import { describe, expect, it } from "vitest";
import {
  normaliseObject,
  normaliseObjects,
  parseDetailQuery,
  parseRankingsQuery,
  parseStreamsQuery,
  rangeToRequest,
  serialiseDetailQuery,
  serialiseRankingsQuery,
  serialiseStreamsQuery,
} from "./query";

describe("rankings query state", () => {
  it("parses repeated object params and the window", () => {
    expect(parseRankingsQuery("?object=person&object=car&window=6h")).toEqual({ objects: ["person", "car"], window: "6h" });
  });

  it("keeps multi-word classes whether spaces arrive as %20 or +", () => {
    expect(parseRankingsQuery("?object=traffic%20light").objects).toEqual(["traffic light"]);
    expect(parseRankingsQuery("?object=traffic+light").objects).toEqual(["traffic light"]);
    expect(parseRankingsQuery("?object=%20Traffic%20%20Light%20").objects).toEqual(["traffic light"]);
  });

  it("falls back to the default window and drops empty or duplicate classes", () => {
    expect(parseRankingsQuery("?object=&object=car&object=CAR&window=2y")).toEqual({ objects: ["car"], window: "24h" });
    expect(parseRankingsQuery("")).toEqual({ objects: [], window: "24h" });
  });

  it("serialises with %20 (not +) and repeated keys", () => {
    expect(serialiseRankingsQuery({ objects: ["person", "traffic light"], window: "24h" })).toBe(
      "?object=person&object=traffic%20light&window=24h",
    );
  });

  it("round-trips", () => {
    const state = { objects: ["traffic light", "bus"], window: "7d" as const };
    expect(parseRankingsQuery(serialiseRankingsQuery(state))).toEqual(state);
  });

  it("caps the number of classes", () => {
    expect(normaliseObjects(["a", "b", "c", "d"], 2)).toEqual(["a", "b"]);
    expect(normaliseObject("  Fire   Hydrant ")).toBe("fire hydrant");
  });
});

describe("stream detail query state", () => {
  it("omits defaults so /streams/3 is canonical", () => {
    expect(serialiseDetailQuery({ range: "24h", metric: "mean" })).toBe("");
    expect(serialiseDetailQuery({ range: "1h", metric: "unique" })).toBe("?range=1h&metric=unique");
  });

  it("ignores unknown values", () => {
    expect(parseDetailQuery("?range=5m&metric=median")).toEqual({ range: "24h", metric: "mean" });
    expect(parseDetailQuery("?range=6h&metric=max")).toEqual({ range: "6h", metric: "max" });
  });

  it("computes the series request from now, with minute buckets up to 6 h", () => {
    const now = new Date("2026-11-23T18:00:00Z");
    expect(rangeToRequest("1h", now)).toEqual({ from: "2026-11-23T17:00:00.000Z", to: "2026-11-23T18:00:00.000Z", bucket: "minute" });
    expect(rangeToRequest("6h", now).bucket).toBe("minute");
    expect(rangeToRequest("7d", now)).toEqual({ from: "2026-11-16T18:00:00.000Z", to: "2026-11-23T18:00:00.000Z", bucket: "hour" });
  });
});

describe("streams query state", () => {
  it("parses status, q and page with fallbacks", () => {
    expect(parseStreamsQuery("?status=live&q=%20cam%20&page=2")).toEqual({ status: "live", q: "cam", page: 2 });
    expect(parseStreamsQuery("?status=bogus&page=-3")).toEqual({ status: null, q: "", page: 1 });
  });

  it("serialises only what is set", () => {
    expect(serialiseStreamsQuery({ status: null, q: "", page: 1 })).toBe("");
    expect(serialiseStreamsQuery({ status: "paused", q: "times square", page: 3 })).toBe("?status=paused&q=times%20square&page=3");
  });
});
