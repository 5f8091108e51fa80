import { describe, expect, it, vi } from "vitest";
import { stubFetch } from "../test/helpers";
import {
  ApiError,
  buildQuery,
  createStream,
  deleteStream,
  errorFromBody,
  getRankings,
  getStreamObjects,
  getStreams,
  request,
  updateStream,
} from "./client";

describe("buildQuery", () => {
  it("repeats array keys, encodes spaces as %20 and skips empties", () => {
    expect(buildQuery({ object: ["person", "traffic light"], window: "24h", q: "", x: null, y: undefined })).toBe(
      "?object=person&object=traffic%20light&window=24h",
    );
    expect(buildQuery({})).toBe("");
    expect(buildQuery({ q: "a&b=c" })).toBe("?q=a%26b%3Dc");
  });
});

describe("request", () => {
  it("calls relative /api URLs and returns JSON", async () => {
    const { calls } = stubFetch({ "GET /api/health": { json: { status: "ok", database: true, version: "0.1.0" } } });
    await expect(request("/health")).resolves.toEqual({ status: "ok", database: true, version: "0.1.0" });
    expect(calls[0]?.url).toBe("/api/health");
    expect(calls[0]?.headers.Authorization).toBeUndefined();
  });

  it("turns the contract's error shape into an ApiError with message and field", async () => {
    stubFetch({ "POST /api/streams": { status: 422, json: { error: { status: 422, message: "Not a stream URL", field: "url" } } } });
    const err = await createStream({ url: "nope" }, "t").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, message: "Not a stream URL", field: "url" });
  });

  it("falls back to a readable message when the error body is not JSON", async () => {
    stubFetch({ "GET /api/objects": { status: 502, text: "<html>Bad Gateway</html>" } });
    await expect(request("/objects")).rejects.toMatchObject({ status: 502, message: "API unavailable (bad gateway)", field: null });
  });

  it("understands FastAPI's default validation shape too", () => {
    const e = errorFromBody(422, { detail: [{ loc: ["body", "fps"], msg: "must be positive" }] });
    expect(e).toMatchObject({ status: 422, message: "must be positive", field: "fps" });
    expect(errorFromBody(404, { detail: "Stream not found" }).message).toBe("Stream not found");
  });

  it("reports network failures as status 0", async () => {
    stubFetch({ "GET /api/objects": () => Promise.reject(new TypeError("Failed to fetch")) });
    await expect(request("/objects")).rejects.toMatchObject({ status: 0, message: expect.stringContaining("Cannot reach the API") });
  });

  it("rethrows aborts untouched", async () => {
    const abort = new DOMException("aborted", "AbortError");
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(abort)));
    await expect(request("/objects")).rejects.toBe(abort);
  });

  it("rejects a 200 that is not JSON", async () => {
    stubFetch({ "GET /api/objects": { status: 200, text: "<!doctype html>" } });
    await expect(request("/objects")).rejects.toMatchObject({ status: 200, message: expect.stringContaining("not JSON") });
  });
});

describe("endpoints", () => {
  it("ranks several classes with repeated object params", async () => {
    const { calls } = stubFetch({ "GET /api/rankings": { json: { objects: [], window: "24h", items: [] } } });
    await getRankings(["person", "traffic light"], "6h");
    expect(calls[0]?.url).toBe("/api/rankings?object=person&object=traffic%20light&window=6h");
  });

  it("lists streams with filters and paging", async () => {
    const { calls } = stubFetch({ "GET /api/streams": { json: { items: [], total: 0, limit: 25, offset: 25 } } });
    await getStreams({ status: "live", q: " cam ", limit: 25, offset: 25 });
    expect(calls[0]?.url).toBe("/api/streams?status=live&q=cam&limit=25&offset=25");
  });

  it("asks for a series with from/to/bucket", async () => {
    const { calls } = stubFetch({ "GET /api/streams/3/objects": { json: { bucket: "minute", series: [] } } });
    await getStreamObjects(3, { from: "2026-11-23T17:00:00.000Z", to: "2026-11-23T18:00:00.000Z", bucket: "minute" });
    expect(calls[0]?.url).toBe("/api/streams/3/objects?from=2026-11-23T17%3A00%3A00.000Z&to=2026-11-23T18%3A00%3A00.000Z&bucket=minute");
  });

  it("sends the bearer token and JSON body on writes; DELETE 204 resolves", async () => {
    const { calls } = stubFetch({
      "POST /api/streams": { status: 201, json: { id: 9 } },
      "PATCH /api/streams/9": { json: { id: 9, status: "paused" } },
      "DELETE /api/streams/9": { status: 204 },
    });
    await createStream({ url: "https://example.com/live.m3u8", name: "Cam" }, "s3cret");
    await updateStream(9, { paused: true }, "s3cret");
    await expect(deleteStream(9, "s3cret")).resolves.toBeUndefined();
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(["POST /api/streams", "PATCH /api/streams/9", "DELETE /api/streams/9"]);
    expect(calls.every((c) => c.headers.Authorization === "Bearer s3cret")).toBe(true);
    expect(calls[0]?.headers["Content-Type"]).toBe("application/json");
    expect(calls[0]?.body).toEqual({ url: "https://example.com/live.m3u8", name: "Cam" });
    expect(calls[1]?.body).toEqual({ paused: true });
  });

  it("maps 401 to a token message", async () => {
    stubFetch({ "DELETE /api/streams/1": { status: 401, json: { error: { status: 401, message: "Invalid token", field: null } } } });
    await expect(deleteStream(1, "wrong")).rejects.toMatchObject({ status: 401, message: "Invalid token" });
  });
});
