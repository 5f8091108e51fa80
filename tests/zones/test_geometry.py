"""Zone geometry: validity of polygons and lines (with the field at fault), inside, sides, segment intersection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import geometry
from core.geometry import GeometryError, anchor, inside, is_simple, segments_intersect, signed_distance

SQUARE = [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]


def test_anchor_is_the_bottom_centre() -> None:
    assert anchor((0.1, 0.2, 0.3, 0.9)) == pytest.approx((0.2, 0.9))


@pytest.mark.parametrize(("raw", "field", "words"), [
    ([[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]], "points", "crosses itself"),  # a bow tie
    ([[0.1, 0.1], [0.5, 0.1], [0.9, 0.1]], "points", "no area"),  # collinear
    ([[0.1, 0.1], [0.2, 0.2]], "points", "at least 3"),
    ([[0.1, 0.1], [0.2, 0.2], [0.1, 0.1]], "points", "at least 3"),  # closed by repeating the first point
    ([[0.1, 0.1], [1.2, 0.2], [0.5, 0.9]], "points[1]", "[0, 1]"),
    ([[0.1, 0.1], [0.2], [0.5, 0.9]], "points[1]", "pair"),
    ([[0.1, 0.1], ["a", 0.2], [0.5, 0.9]], "points[1]", "pair"),
    ([[0.1, 0.1], [float("nan"), 0.2], [0.5, 0.9]], "points[1]", "[0, 1]"),
    ("0.1,0.1", "points", "list"),
    ([[0.1 + 0.8 * (i % 2), 0.01 * i] for i in range(40)], "points", "at most 32"),
    ([[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.5, 0.1], [0.9, 0.9]], "points", "crosses itself"),  # folds back
])
def test_bad_polygons_name_the_field(raw, field: str, words: str) -> None:
    with pytest.raises(GeometryError) as refused:
        geometry.validate_polygon(raw)
    assert refused.value.field == field and words in refused.value.message


def test_good_polygons_pass_and_a_closing_point_is_dropped() -> None:
    assert geometry.validate_polygon([list(p) for p in SQUARE]) == SQUARE
    assert geometry.validate_polygon([*map(list, SQUARE), [0.2, 0.2]]) == SQUARE
    concave = [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.5, 0.3), (0.1, 0.9)]
    assert geometry.validate_polygon(concave) == concave


@pytest.mark.parametrize(("raw", "words"), [
    ([[0.5, 0.5], [0.5, 0.5]], "shorter"),
    ([[0.5, 0.5], [0.5, 0.505]], "shorter"),
    ([[0.5, 0.5]], "exactly 2"),
    ([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]], "exactly 2"),
])
def test_bad_lines(raw, words: str) -> None:
    with pytest.raises(GeometryError) as refused:
        geometry.validate_line(raw)
    assert refused.value.field == "points" and words in refused.value.message


@pytest.mark.parametrize(("name", "words"), [("", "non-empty"), ("   ", "non-empty"), ("x" * 65, "at most 64"),
                                             ("a\x00b", "control"), (7, "non-empty")])
def test_bad_names(name, words: str) -> None:
    with pytest.raises(GeometryError) as refused:
        geometry.validate_name(name)
    assert refused.value.field == "name" and words in refused.value.message


def test_sides_of_a_line_drawn_upwards_put_in_on_the_right() -> None:
    a, b = (0.5, 0.98), (0.5, 0.35)
    assert signed_distance((0.6, 0.5), a, b) == pytest.approx(0.1)
    assert signed_distance((0.4, 0.5), a, b) == pytest.approx(-0.1)
    # Drawn left to right, "in" is downwards on the picture.
    assert signed_distance((0.5, 0.7), (0.1, 0.5), (0.9, 0.5)) == pytest.approx(0.2)


def test_inside_a_square_and_a_concave_polygon() -> None:
    assert inside((0.5, 0.5), SQUARE) and not inside((0.9, 0.5), SQUARE) and not inside((0.5, 0.1), SQUARE)
    concave = [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.5, 0.3), (0.1, 0.9)]
    assert inside((0.13, 0.8), concave) and inside((0.5, 0.2), concave) and not inside((0.5, 0.8), concave)


unit = st.floats(0, 1, allow_nan=False)
pt = st.tuples(unit, unit)


@given(pt, pt, pt, pt)
def test_segment_intersection_matches_a_dense_sampling(p1, p2, q1, q2) -> None:
    """If sampled points of one segment lie on both sides of the other's line and vice versa, they intersect."""
    def sides(a, b, points):
        return {1 if signed_distance(p, a, b) > 1e-6 else -1 if signed_distance(p, a, b) < -1e-6 else 0
                for p in points}

    if p1 == p2 or q1 == q2:
        return
    if sides(q1, q2, [p1, p2]) == {1, -1} and sides(p1, p2, [q1, q2]) == {1, -1}:
        assert segments_intersect(p1, p2, q1, q2)
    if sides(q1, q2, [p1, p2]) in ({1}, {-1}):
        assert not segments_intersect(p1, p2, q1, q2)


@given(st.lists(pt, min_size=3, max_size=8), pt)
def test_inside_agrees_with_the_winding_of_a_convex_hull_point(points, probe) -> None:
    """For a triangle, inside() matches the sign test of its three edges."""
    a, b, c = points[:3]
    if not is_simple([a, b, c]):
        return
    d = [geometry._cross(a, b, probe), geometry._cross(b, c, probe), geometry._cross(c, a, probe)]
    if min(abs(x) for x in d) < 1e-6:
        return  # on an edge: either answer is right
    assert inside(probe, [a, b, c]) == (all(x > 0 for x in d) or all(x < 0 for x in d))
