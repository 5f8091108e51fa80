import { useState, type MouseEvent } from "react";
import { ApiError } from "../../api/client";
import { createZone, deleteZone, updateZone, type Point, type Zone, type ZoneKind } from "../../api/zones";
import { loadToken } from "../../lib/token";
import { acceptsPoint, drawingProblem, inArrow, normalisedPoint } from "../../lib/zones";

interface Props {
  streamId: string;
  snapshotUrl: string | null | undefined;
  alt: string;
  zones: Zone[];
  onSaved: () => void;
}

interface Drawing {
  kind: ZoneKind;
  points: Point[];
  name: string;
  /** Redrawing an existing zone or line (a new version), else a new one. */
  zoneId: number | null;
}

const pct = (v: number) => `${v * 100}`;
const svgPoints = (points: number[][]) => points.map((p) => `${pct(p[0] ?? 0)},${pct(p[1] ?? 0)}`).join(" ");
const COLOURS = { zone: "#0ea5e9", line: "#f59e0b", drawing: "#e11d48" };

/**
 * The latest snapshot with the stream's zones (polygons) and counting lines (with an arrow to their "in" side)
 * drawn over it; clicking on the picture draws a new one, or redraws one (a new version). Saving needs the API
 * token (entered once on the Streams page).
 */
export function ZoneEditor({ streamId, snapshotUrl, alt, zones, onSaved }: Props) {
  const [drawing, setDrawing] = useState<Drawing | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [aspect, setAspect] = useState(16 / 9);

  const start = (kind: ZoneKind, zone: Zone | null = null) => {
    setError(null);
    setDrawing({ kind, points: [], name: zone?.name ?? "", zoneId: zone?.id ?? null });
  };

  const click = (e: MouseEvent<SVGSVGElement>) => {
    if (!drawing || !acceptsPoint(drawing.kind, drawing.points)) return;
    const point = normalisedPoint(e.clientX, e.clientY, e.currentTarget.getBoundingClientRect());
    setDrawing({ ...drawing, points: [...drawing.points, point] });
  };

  const save = async () => {
    if (!drawing) return;
    setSaving(true);
    setError(null);
    try {
      const token = loadToken();
      if (drawing.zoneId === null) {
        await createZone(streamId, { kind: drawing.kind, name: drawing.name.trim(), points: drawing.points }, token);
      } else {
        await updateZone(streamId, drawing.zoneId, { name: drawing.name.trim(), points: drawing.points }, token);
      }
      setDrawing(null);
      onSaved();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, String(err)));
    } finally {
      setSaving(false);
    }
  };

  const remove = async (zone: Zone) => {
    setError(null);
    try {
      await deleteZone(streamId, zone.id, loadToken());
      onSaved();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, String(err)));
    }
  };

  const problem = drawing ? drawingProblem(drawing.kind, drawing.points, drawing.name) : null;
  return (
    <figure className="card m-0 overflow-hidden" data-testid="stream-snapshot">
      <div className="relative w-full bg-slate-200" style={{ aspectRatio: String(aspect) }} data-testid="zone-canvas">
        {snapshotUrl ? (
          <img
            src={snapshotUrl}
            alt={alt}
            data-testid="snapshot"
            className="absolute inset-0 h-full w-full"
            onLoad={(e) => {
              const img = e.currentTarget;
              if (img.naturalWidth && img.naturalHeight) setAspect(img.naturalWidth / img.naturalHeight);
            }}
          />
        ) : (
          <div data-testid="snapshot-placeholder" className="absolute inset-0 flex items-center justify-center text-sm text-slate-500">
            No snapshot yet
          </div>
        )}
        <svg
          viewBox="0 0 100 100"
          preserveAspectRatio="none"
          className={`absolute inset-0 h-full w-full ${drawing ? "cursor-crosshair" : ""}`}
          onClick={click}
          data-testid="zone-overlay"
          role={drawing ? "application" : "img"}
          aria-label={drawing ? `Click on the picture to draw the ${drawing.kind}` : "Zones and lines of this stream"}
        >
          {zones.map((z) =>
            z.kind === "zone" ? (
              <polygon
                key={z.id}
                points={svgPoints(z.points)}
                fill={COLOURS.zone}
                fillOpacity={0.2}
                stroke={COLOURS.zone}
                strokeWidth={0.4}
                vectorEffect="non-scaling-stroke"
                data-testid="zone-shape"
                data-name={z.name}
              />
            ) : (
              <LineShape key={z.id} a={z.points[0] as Point} b={z.points[1] as Point} colour={COLOURS.line} name={z.name} />
            ),
          )}
          {drawing && drawing.points.length > 0 && (
            <>
              <polyline
                points={svgPoints(drawing.points)}
                fill="none"
                stroke={COLOURS.drawing}
                strokeWidth={2}
                vectorEffect="non-scaling-stroke"
              />
              {drawing.points.map(([x, y], i) => (
                <circle key={i} cx={pct(x)} cy={pct(y)} r={0.8} fill={COLOURS.drawing} data-testid="drawing-point" />
              ))}
            </>
          )}
        </svg>
      </div>
      <figcaption className="flex flex-col gap-3 px-4 py-3 text-sm">
        {!drawing ? (
          <div className="flex flex-wrap items-center gap-2">
            <span className="text-xs text-slate-500">Latest annotated snapshot.</span>
            <button type="button" className="btn-secondary" data-testid="draw-zone" onClick={() => start("zone")}>
              Draw a zone
            </button>
            <button type="button" className="btn-secondary" data-testid="draw-line" onClick={() => start("line")}>
              Draw a counting line
            </button>
            {zones.map((z) => (
              <span key={z.id} className="inline-flex items-center gap-1 rounded-full bg-slate-100 px-2 py-0.5 text-xs" data-testid="zone-chip" data-name={z.name}>
                {z.kind === "zone" ? "▱" : "↦"} {z.name} <span className="text-slate-400">v{z.version}</span>
                <button type="button" className="link" onClick={() => start(z.kind, z)} aria-label={`Redraw ${z.name}`}>
                  redraw
                </button>
                <button type="button" className="link" onClick={() => remove(z)} aria-label={`Remove ${z.name}`}>
                  remove
                </button>
              </span>
            ))}
          </div>
        ) : (
          <div className="flex flex-wrap items-end gap-2" data-testid="zone-form">
            <div>
              <label htmlFor="zone-name" className="field-label">
                {drawing.kind === "zone" ? "Zone name" : "Line name"}
              </label>
              <input
                id="zone-name"
                data-testid="zone-name"
                className="field-input py-1.5"
                maxLength={64}
                value={drawing.name}
                aria-invalid={error?.field === "name"}
                onChange={(e) => setDrawing({ ...drawing, name: e.target.value })}
              />
            </div>
            <button type="button" className="btn-primary" data-testid="zone-save" disabled={problem !== null || saving} onClick={save}>
              {saving ? "Saving…" : drawing.zoneId === null ? "Save" : "Save new version"}
            </button>
            <button type="button" className="btn-secondary" data-testid="zone-undo" disabled={drawing.points.length === 0} onClick={() => setDrawing({ ...drawing, points: drawing.points.slice(0, -1) })}>
              Undo point
            </button>
            <button type="button" className="btn-secondary" data-testid="zone-cancel" onClick={() => setDrawing(null)}>
              Cancel
            </button>
            <p className="w-full text-xs text-slate-500" data-testid="zone-hint">
              {problem ??
                (drawing.kind === "line"
                  ? "Crossing towards the right-hand side of the line, walking from its first to its second point, counts as in."
                  : `${drawing.points.length} corners; people are counted by the bottom centre of their box.`)}
            </p>
          </div>
        )}
        {error && (
          <p role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-xs text-rose-800" data-testid="zone-error">
            {error.field ? `${error.field}: ` : ""}
            {error.message}
          </p>
        )}
      </figcaption>
    </figure>
  );
}

function LineShape({ a, b, colour, name }: { a: Point; b: Point; colour: string; name: string }) {
  const [from, to] = inArrow(a, b);
  return (
    <g data-testid="line-shape" data-name={name}>
      <line x1={pct(a[0])} y1={pct(a[1])} x2={pct(b[0])} y2={pct(b[1])} stroke={colour} strokeWidth={3} vectorEffect="non-scaling-stroke" />
      <line x1={pct(from[0])} y1={pct(from[1])} x2={pct(to[0])} y2={pct(to[1])} stroke={colour} strokeWidth={2} vectorEffect="non-scaling-stroke" strokeDasharray="4 2" />
      <circle cx={pct(to[0])} cy={pct(to[1])} r={0.7} fill={colour} />
    </g>
  );
}
