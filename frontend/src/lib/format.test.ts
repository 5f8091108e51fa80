import { describe, expect, it } from "vitest";
import {
  capitalise,
  formatBitrate,
  formatDateTime,
  formatFps,
  formatInt,
  formatMean,
  formatMinutes,
  formatRelative,
  formatResolution,
  formatSeconds,
  formatTick,
  streamLabel,
} from "./format";

describe("numbers", () => {
  it("formats integers with separators and a dash for missing values", () => {
    expect(formatInt(12000)).toBe("12,000");
    expect(formatInt(null)).toBe("—");
    expect(formatInt(Number.NaN)).toBe("—");
  });

  it("formats means with precision that depends on size, keeping zero", () => {
    expect(formatMean(0)).toBe("0.00");
    expect(formatMean(2.456)).toBe("2.46");
    expect(formatMean(12.34)).toBe("12.3");
    expect(formatMean(1234.5)).toBe("1,235");
    expect(formatMean(undefined)).toBe("—");
  });

  it("formats rates, bitrates and resolutions", () => {
    expect(formatFps(1)).toBe("1 fps");
    expect(formatFps(29.97)).toBe("29.97 fps");
    expect(formatBitrate(2_500_000)).toBe("2.5 Mbit/s");
    expect(formatBitrate(96_000)).toBe("96 kbit/s");
    expect(formatBitrate(null)).toBe("—");
    expect(formatResolution(1280, 720)).toBe("1280×720");
    expect(formatResolution(null, 720)).toBe("—");
  });
});

describe("durations", () => {
  it("formats seconds", () => {
    expect(formatSeconds(1.234)).toBe("1.2 s");
    expect(formatSeconds(42)).toBe("42 s");
    expect(formatSeconds(75)).toBe("1 min 15 s");
    expect(formatSeconds(3720)).toBe("1 h 2 min");
    expect(formatSeconds(-1)).toBe("—");
  });

  it("formats minutes observed", () => {
    expect(formatMinutes(24)).toBe("24 min");
    expect(formatMinutes(90)).toBe("1 h 30 min");
    expect(formatMinutes(120)).toBe("2 h");
    expect(formatMinutes(2880)).toBe("2 d 0 h");
  });
});

describe("times", () => {
  const now = new Date("2026-11-23T18:00:00Z");

  it("formats relative times", () => {
    expect(formatRelative("2026-11-23T17:59:50Z", now)).toBe("just now");
    expect(formatRelative("2026-11-23T17:55:00Z", now)).toBe("5 min ago");
    expect(formatRelative("2026-11-23T15:00:00Z", now)).toBe("3 h ago");
    expect(formatRelative("2026-11-21T18:00:00Z", now)).toBe("2 d ago");
    expect(formatRelative("2026-11-23T20:00:00Z", now)).toBe("in 2 h");
    expect(formatRelative(null, now)).toBe("never");
    expect(formatRelative("not a date", now)).toBe("never");
  });

  it("formats absolute times in UTC", () => {
    expect(formatDateTime("2026-11-23T18:00:00Z")).toBe("2026-11-23 18:00 UTC");
    expect(formatDateTime("2026-11-23T19:30:00+01:00")).toBe("2026-11-23 18:30 UTC");
    expect(formatDateTime(null)).toBe("—");
  });

  it("formats chart ticks by span", () => {
    expect(formatTick("2026-11-23T08:05:00Z", 6)).toBe("08:05");
    expect(formatTick("2026-11-23T08:00:00Z", 168)).toBe("Nov 23 08:00");
  });
});

describe("labels", () => {
  it("prefers the name, then the title, then the canonical id", () => {
    const base = { id: 3, canonical_id: "youtube:abc", title: "Cam", name: "Times Square" };
    expect(streamLabel(base)).toBe("Times Square");
    expect(streamLabel({ ...base, name: "  " })).toBe("Cam");
    expect(streamLabel({ ...base, name: null, title: null })).toBe("youtube:abc");
    expect(capitalise("traffic light")).toBe("Traffic light");
  });
});
