// Pure helpers of the zone editor: normalised click positions, what a drawing needs before it can be saved,
// and the arrow that shows a line's "in" side (the right-hand side walking from its first to its second point).
import type { Point, ZoneKind } from "../api/zones";

export const MAX_ZONE_POINTS = 32;

/** A click at (clientX, clientY) inside `rect`, as shares of its width and height in [0, 1] (6 decimals). */
export function normalisedPoint(clientX: number, clientY: number, rect: { left: number; top: number; width: number; height: number }): Point {
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  return [round(clamp((clientX - rect.left) / rect.width)), round(clamp((clientY - rect.top) / rect.height))];
}

/** Why a drawing cannot be saved yet, or null when it can. */
export function drawingProblem(kind: ZoneKind, points: Point[], name: string): string | null {
  if (kind === "line" && points.length < 2) return "Click the line's start and end on the picture.";
  if (kind === "zone" && points.length < 3) return "Click at least 3 corners of the zone on the picture.";
  if (!name.trim()) return "Give it a name.";
  return null;
}

/** Whether another click adds a point (a line has exactly 2, a zone at most MAX_ZONE_POINTS). */
export function acceptsPoint(kind: ZoneKind, points: Point[]): boolean {
  return kind === "line" ? points.length < 2 : points.length < MAX_ZONE_POINTS;
}

/** From the line's middle, a short arrow towards its "in" side (normalised coordinates; y downwards). */
export function inArrow(a: Point, b: Point, length = 0.06): [Point, Point] {
  const mid: Point = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const norm = Math.hypot(dx, dy) || 1;
  return [mid, [mid[0] - (dy / norm) * length, mid[1] + (dx / norm) * length]];
}
