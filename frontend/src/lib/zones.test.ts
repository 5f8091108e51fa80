import { describe, expect, it } from "vitest";
import { acceptsPoint, drawingProblem, inArrow, normalisedPoint } from "./zones";

describe("zone editor helpers", () => {
  it("normalises clicks to the picture and clamps them", () => {
    const rect = { left: 100, top: 50, width: 400, height: 200 };
    expect(normalisedPoint(300, 150, rect)).toEqual([0.5, 0.5]);
    expect(normalisedPoint(50, 400, rect)).toEqual([0, 1]);
  });

  it("says what a drawing lacks", () => {
    expect(drawingProblem("line", [[0.1, 0.1]], "door")).toMatch(/start and end/);
    expect(drawingProblem("zone", [[0.1, 0.1], [0.2, 0.2]], "area")).toMatch(/at least 3/);
    expect(drawingProblem("line", [[0.1, 0.1], [0.2, 0.2]], " ")).toMatch(/name/);
    expect(drawingProblem("line", [[0.1, 0.1], [0.2, 0.2]], "door")).toBeNull();
    expect(acceptsPoint("line", [[0, 0], [1, 1]])).toBe(false);
    expect(acceptsPoint("zone", [[0, 0], [1, 1], [1, 0]])).toBe(true);
  });

  it("points the arrow to the right-hand side of a line drawn upwards", () => {
    const [from, to] = inArrow([0.5, 0.9], [0.5, 0.1]);
    expect(from).toEqual([0.5, 0.5]);
    expect(to[0]).toBeGreaterThan(0.5);
    expect(to[1]).toBeCloseTo(0.5);
  });
});
