// Zones and counting lines of a stream: the API calls (api/routers/zones.py) and their types.
import { request } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];
export type Zone = Schemas["ZoneOut"];
export type ZoneList = Schemas["ZoneList"];
export type NewZone = Schemas["ZoneCreate"];
export type ZoneFigures = Schemas["ZoneFigures"];
export type ZoneFiguresResponse = Schemas["ZoneFiguresResponse"];
export type ZoneKind = NewZone["kind"];
export type Point = [number, number];

const base = (streamId: number | string) => `/streams/${encodeURIComponent(String(streamId))}/zones`;

export function getZones(streamId: number | string, signal?: AbortSignal): Promise<ZoneList> {
  return request<ZoneList>(base(streamId), { signal });
}

export function getZoneFigures(streamId: number | string, window: string, signal?: AbortSignal): Promise<ZoneFiguresResponse> {
  return request<ZoneFiguresResponse>(`/streams/${encodeURIComponent(String(streamId))}/zone-figures?window=${encodeURIComponent(window)}&bucket=minute`, { signal });
}

export function createZone(streamId: number | string, body: NewZone, token: string | null): Promise<Zone> {
  return request<Zone>(base(streamId), { method: "POST", body, token });
}

export function updateZone(
  streamId: number | string,
  zoneId: number,
  patch: { name?: string; points?: Point[] },
  token: string | null,
): Promise<Zone> {
  return request<Zone>(`${base(streamId)}/${zoneId}`, { method: "PATCH", body: patch, token });
}

export function deleteZone(streamId: number | string, zoneId: number, token: string | null): Promise<void> {
  return request<void>(`${base(streamId)}/${zoneId}`, { method: "DELETE", token });
}
