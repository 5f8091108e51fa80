// The API's types, named for the UI. They are aliases of the types openapi-typescript generates from the
// app's OpenAPI document (schema.d.ts, from openapi.json: `npm run gen:api`); `npm test` fails when either
// file no longer matches the app, so a schema change shows up here as a type error.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type StreamStatus = Schemas["StreamStatus"];
// Every status once, in display order; the `satisfies` lines fail to compile when the API's set changes.
export const STREAM_STATUSES = [
  "pending",
  "live",
  "reconnecting",
  "ended",
  "failed",
  "paused",
] as const satisfies readonly StreamStatus[];
type MissingStatus = Exclude<StreamStatus, (typeof STREAM_STATUSES)[number]>;
const _everyStatus: MissingStatus extends never ? true : MissingStatus = true;
void _everyStatus;

export type RankingWindow = Schemas["Window"];
export const WINDOWS = ["1h", "6h", "24h", "7d"] as const satisfies readonly RankingWindow[];
type MissingWindow = Exclude<RankingWindow, (typeof WINDOWS)[number]>;
const _everyWindow: MissingWindow extends never ? true : MissingWindow = true;
void _everyWindow;

export type SourceKind = Schemas["SourceKind"];
export type Bucket = Schemas["Bucket"];

export type Stream = Schemas["StreamOut"];
export type Health = Schemas["HealthOut"];
export type TopObject = Schemas["ObjectFigures"];
export type PerObject = Schemas["ObjectFigures"];
export type StreamDetail = Schemas["StreamDetail"];
export type StreamList = Schemas["StreamPage"];
export type ObjectSummary = Schemas["ObjectRank"];
export type ObjectList = Schemas["ObjectsResponse"];
export type RankingItem = Schemas["RankingItem"];
export type Rankings = Schemas["RankingsResponse"];
export type SeriesPoint = Schemas["SeriesPoint"];
export type ObjectSeries = Schemas["Series"];
export type StreamObjects = Schemas["SeriesResponse"];
export type NewStream = Schemas["StreamCreate"];
export type StreamPatch = Schemas["StreamPatch"];
export type ApiHealth = Schemas["ServiceHealth"];
export type TrendingItem = Schemas["TrendingItem"];
export type Trending = Schemas["TrendingResponse"];
