"""Zone and counting-line geometry in normalised picture coordinates (x right, y down, both in [0, 1]).

Pure functions, no I/O. ``core`` holds them because the API validates what the aggregator counts with: one
definition of "a valid polygon" and "inside". Hand-written (about sixty lines) because no geometry library is
installed or pinned in this project (shapely would add GEOS to the Lambda package for four predicates); the
predicates are the textbook ones (even-odd ray casting, orientation tests) and are tested against brute force
and hypothesis in ``tests/zones/test_geometry.py``.

- The *anchor* of a box is its bottom centre ``((x0 + x1) / 2, y1)``: where a person's feet or a car's wheels
  touch the ground, so a zone drawn on the ground means "standing in it" whatever the object's height.
- A line's *side*: for a line from A to B, the signed distance of a point from the line, positive on the
  right-hand side of someone walking from A to B on the picture (y down). Crossing from the negative to the
  positive side is "in", the other way "out".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = tuple[float, float]

MAX_POINTS = 32  # a polygon's vertices; a zone is drawn by hand, a few dozen clicks at most
MAX_NAME = 64
MIN_LINE_LENGTH = 0.01  # share of the picture; a shorter line is a mis-click
EPS = 1e-9


class GeometryError(ValueError):
    """A zone or line that cannot be counted with; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def anchor(box: Sequence[float]) -> Point:
    """Bottom centre of a normalised box (x0, y0, x1, y1)."""
    return ((box[0] + box[2]) / 2.0, box[3])


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    return (min(a[0], b[0]) - EPS <= p[0] <= max(a[0], b[0]) + EPS
            and min(a[1], b[1]) - EPS <= p[1] <= max(a[1], b[1]) + EPS)


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Whether segments p1-p2 and q1-q2 share a point (touching and collinear overlap included)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    if ((d1 > EPS and d2 < -EPS) or (d1 < -EPS and d2 > EPS)) and ((d3 > EPS and d4 < -EPS) or
                                                                   (d3 < -EPS and d4 > EPS)):
        return True
    return ((abs(d1) <= EPS and _on_segment(p1, q1, q2)) or (abs(d2) <= EPS and _on_segment(p2, q1, q2))
            or (abs(d3) <= EPS and _on_segment(q1, p1, p2)) or (abs(d4) <= EPS and _on_segment(q2, p1, p2)))


def inside(point: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd rule (ray casting to the right): points on the left/top edges count as inside, on the
    right/bottom ones as outside, so two zones sharing an edge never both hold a point."""
    x, y = point
    result = False
    n = len(polygon)
    for i in range(n):
        (xa, ya), (xb, yb) = polygon[i], polygon[(i + 1) % n]
        if (ya > y) != (yb > y) and x < xa + (y - ya) * (xb - xa) / (yb - ya):
            result = not result
    return result


def signed_distance(point: Point, a: Point, b: Point) -> float:
    """Distance of ``point`` from the infinite line A-B, positive on its right-hand ("in") side."""
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    return _cross(a, b, point) / length if length > 0 else 0.0


def is_simple(polygon: Sequence[Point]) -> bool:
    """No two non-adjacent edges meet, no edge has zero length, and the area is not zero."""
    n = len(polygon)
    edges = [(polygon[i], polygon[(i + 1) % n]) for i in range(n)]
    if any(math.dist(a, b) <= EPS for a, b in edges):
        return False
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):  # adjacent: they share a vertex by construction
                a, b = edges[i]
                c, d = edges[j]
                shared = b if j == i + 1 else a
                other_i, other_j = (a, d) if j == i + 1 else (b, c)
                # Adjacent edges may only meet at their shared vertex: folding back along each other is a crossing.
                if abs(_cross(shared, other_i, other_j)) <= EPS and (
                        (other_i[0] - shared[0]) * (other_j[0] - shared[0])
                        + (other_i[1] - shared[1]) * (other_j[1] - shared[1])) > 0:
                    return False
                continue
            if segments_intersect(*edges[i], *edges[j]):
                return False
    return abs(area(polygon)) > EPS


def area(polygon: Sequence[Point]) -> float:
    """Signed area (shoelace)."""
    n = len(polygon)
    return sum(polygon[i][0] * polygon[(i + 1) % n][1] - polygon[(i + 1) % n][0] * polygon[i][1]
               for i in range(n)) / 2.0


def _points(raw: object, field: str) -> list[Point]:
    if not isinstance(raw, (list, tuple)):
        raise GeometryError(field, "must be a list of [x, y] pairs")
    out: list[Point] = []
    for i, item in enumerate(raw):
        if (not isinstance(item, (list, tuple)) or len(item) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in item)):
            raise GeometryError(f"{field}[{i}]", "must be a pair of numbers [x, y]")
        x, y = float(item[0]), float(item[1])
        if not (math.isfinite(x) and math.isfinite(y) and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise GeometryError(f"{field}[{i}]", "coordinates are shares of the picture: each in [0, 1]")
        out.append((x, y))
    return out


def validate_name(name: object, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise GeometryError(field, "must be a non-empty text")
    name = name.strip()
    if len(name) > MAX_NAME:
        raise GeometryError(field, f"at most {MAX_NAME} characters")
    if any(ord(c) < 32 for c in name):
        raise GeometryError(field, "control characters are not allowed")
    return name


def validate_polygon(raw: object, field: str = "points") -> list[Point]:
    """A zone's polygon: 3 to :data:`MAX_POINTS` vertices in [0, 1], simple (not self-intersecting). A closing
    vertex equal to the first is accepted and dropped (the polygon is closed either way)."""
    points = _points(raw, field)
    if len(points) >= 2 and math.dist(points[0], points[-1]) <= EPS:
        points = points[:-1]
    if len(points) < 3:
        raise GeometryError(field, "a zone needs at least 3 distinct points")
    if len(points) > MAX_POINTS:
        raise GeometryError(field, f"at most {MAX_POINTS} points")
    if not is_simple(points):
        raise GeometryError(field, "the polygon crosses itself, repeats a point or has no area")
    return points


def validate_line(raw: object, field: str = "points") -> list[Point]:
    """A counting line: exactly two points in [0, 1], at least :data:`MIN_LINE_LENGTH` apart."""
    points = _points(raw, field)
    if len(points) != 2:
        raise GeometryError(field, "a line has exactly 2 points [start, end]")
    if math.dist(*points) < MIN_LINE_LENGTH:
        raise GeometryError(field, f"the line is shorter than {MIN_LINE_LENGTH} of the picture")
    return points
