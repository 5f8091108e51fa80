"""Generated scenes with ground truth: where every object is, in every frame (pure logic, no I/O).

A scene is a background plus *actors*: sprites (people and vehicles cut out of images by their known boxes,
see :data:`SPRITES`) that walk or drive across the frame in straight lines at chosen speeds, entering and
leaving at the edges, crossing and passing in front of one another. A scene repeats every ``period_s``
seconds; each pass of an actor is a new identity (``loop x 1000 + actor``), as a new person would be.

What a frame's truth counts: an object is *visible* when at least :data:`VISIBLE_SHARE` of its box is inside
the frame and not hidden behind actors drawn after it (drawn from far to near: the lower a box's bottom edge,
the nearer it is). That is what a person labelling the frame would count, and what the benchmark compares
occupancy with. The occlusion share is measured on a coarse grid (:data:`GRID` px cells).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

VISIBLE_SHARE = 0.5
GRID = 8
IDS_PER_LOOP = 1000


@dataclass(frozen=True)
class Sprite:
    """A cut-out: ``source`` image (``ultralytics:NAME`` = the ultralytics wheel's assets), its box in
    that image (x0, y0, x1, y1, pixels) and the COCO class it shows."""

    source: str
    box: tuple[int, int, int, int]
    cls: str

    @property
    def aspect(self) -> float:
        """Width over height."""
        x0, y0, x1, y1 = self.box
        return (x1 - x0) / (y1 - y0)


# Boxes measured once with yolo11n on the images and checked by eye; each crop holds one whole object.
SPRITES: dict[str, Sprite] = {
    "man_dark_coat": Sprite("ultralytics:bus.jpg", (47, 399, 239, 904), "person"),
    "man_jacket": Sprite("ultralytics:bus.jpg", (223, 408, 344, 860), "person"),
    "zidane": Sprite("ultralytics:zidane.jpg", (748, 41, 1148, 711), "person"),
    # The middle of the bus, between the people standing in front of it (yolo11n: bus at 0.6-0.8 on the walkway).
    "bus": Sprite("ultralytics:bus.jpg", (346, 229, 669, 728), "bus"),
}


@dataclass(frozen=True)
class Actor:
    """One object's path: it appears at ``start_s`` (seconds into the period) just outside the edge it
    enters from and moves at ``speed`` px/s (``direction`` +1 = rightwards, -1 = leftwards), its box's
    bottom edge at ``ground`` (share of the frame height), ``height`` px tall."""

    actor_id: int
    sprite: str
    start_s: float
    speed: float
    direction: int
    ground: float
    height: int
    # Instead of a straight pass: (seconds after start_s, x of the box's centre in px) key points, moved between
    # in straight lines (stops, turns, swaying on the spot); off screen before the first and after the last.
    route: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Scene:
    name: str
    period_s: float
    actors: tuple[Actor, ...]
    background: str = "walkway"
    width: int = 1280
    height: int = 720
    description: str = ""


@dataclass(frozen=True)
class Placed:
    """An actor's pass in one frame: its box (unclipped, pixels), identity and visible share."""

    identity: int
    actor_id: int
    sprite: str
    cls: str
    box: tuple[float, float, float, float]
    visible: float = 1.0

    @property
    def counted(self) -> bool:
        return self.visible >= VISIBLE_SHARE

    def clipped(self, width: int, height: int) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = self.box
        return max(0.0, x0), max(0.0, y0), min(float(width), x1), min(float(height), y1)


def actor_box(actor: Actor, scene: Scene, t: float) -> tuple[float, float, float, float] | None:
    """The actor's box at ``t`` seconds into the period, or None when it is off screen (not started,
    or gone past the far edge). A pass lasts (frame width + box width) / speed seconds."""
    sprite = SPRITES[actor.sprite]
    w = actor.height * sprite.aspect
    elapsed = t - actor.start_s
    if actor.route:
        centre = route_x(actor.route, elapsed)
        if centre is None:
            return None
        y1 = actor.ground * scene.height
        return (centre - w / 2, y1 - actor.height, centre + w / 2, y1)
    travel = scene.width + w
    if elapsed < 0 or elapsed * actor.speed > travel:
        return None
    shift = elapsed * actor.speed
    x0 = -w + shift if actor.direction > 0 else scene.width - shift
    y1 = actor.ground * scene.height
    return (x0, y1 - actor.height, x0 + w, y1)


def route_x(route: tuple[tuple[float, float], ...], elapsed: float) -> float | None:
    """The centre x on a route ``elapsed`` seconds after its start (None outside the route's time)."""
    if elapsed < route[0][0] or elapsed > route[-1][0]:
        return None
    for (t0, x0), (t1, x1) in itertools.pairwise(route):
        if t0 <= elapsed <= t1:
            return x0 if t1 == t0 else x0 + (x1 - x0) * (elapsed - t0) / (t1 - t0)
    return route[-1][1]


def objects_at(scene: Scene, t: float) -> list[Placed]:
    """Every actor on screen at scene time ``t`` (any t >= 0; the scene repeats), far to near, with the
    share of each box that is in the frame and not covered by nearer actors."""
    loop, local = divmod(t, scene.period_s)
    placed = []
    for actor in scene.actors:
        # A pass that started in the previous period may still be on screen.
        for back in (0, 1):
            box = actor_box(actor, scene, local + back * scene.period_s)
            if box is not None and loop - back >= 0:
                identity = int(loop - back) * IDS_PER_LOOP + actor.actor_id
                placed.append(Placed(identity, actor.actor_id, actor.sprite, SPRITES[actor.sprite].cls, box))
                break
    placed.sort(key=lambda p: p.box[3])  # far (higher up) first: nearer ones are drawn over them
    return _with_visibility(placed, scene.width, scene.height)


def _with_visibility(placed: list[Placed], width: int, height: int) -> list[Placed]:
    """Visible share of each box: its grid cells inside the frame and not covered by a later box."""
    out = []
    for i, obj in enumerate(placed):
        x0, y0, x1, y1 = obj.box
        cols = range(math.floor(x0 / GRID), math.ceil(x1 / GRID))
        rows = range(math.floor(y0 / GRID), math.ceil(y1 / GRID))
        total = len(cols) * len(rows)
        later = [p.box for p in placed[i + 1 :]]
        seen = 0
        for r in rows:
            cy = (r + 0.5) * GRID
            if not 0 <= cy < height:
                continue
            for c in cols:
                cx = (c + 0.5) * GRID
                if 0 <= cx < width and not any(b[0] <= cx < b[2] and b[1] <= cy < b[3] for b in later):
                    seen += 1
        out.append(Placed(obj.identity, obj.actor_id, obj.sprite, obj.cls, obj.box, seen / max(total, 1)))
    return out


def truth_counts(scene: Scene, t: float) -> dict[str, int]:
    """Objects counted per class in the frame at ``t``."""
    counts: dict[str, int] = {}
    for obj in objects_at(scene, t):
        if obj.counted:
            counts[obj.cls] = counts.get(obj.cls, 0) + 1
    return counts


def truth_record(scene: Scene, frame: int, fps: float) -> dict:
    """One line of the ground-truth file (JSON-ready): frame number, time and every object on screen."""
    t = frame / fps
    return {
        "frame": frame,
        "t": round(t, 4),
        "objects": [
            {"id": o.identity, "class": o.cls, "box": [round(v, 1) for v in o.clipped(scene.width, scene.height)],
             "visible": round(o.visible, 3), "counted": o.counted}
            for o in objects_at(scene, t)
        ],
    }


def summary(scene: Scene, times: list[float]) -> dict[str, dict[str, float]]:
    """Truth over sampled times, per class: mean objects per frame and distinct identities counted."""
    per_class: dict[str, dict] = {}
    for t in times:
        counts: dict[str, int] = {}
        for obj in objects_at(scene, t):
            if obj.counted:
                counts[obj.cls] = counts.get(obj.cls, 0) + 1
                per_class.setdefault(obj.cls, {"total": 0, "ids": set()})["ids"].add(obj.identity)
        for cls, n in counts.items():
            per_class[cls]["total"] += n
    frames = max(len(times), 1)
    return {cls: {"mean": v["total"] / frames, "unique": float(len(v["ids"]))} for cls, v in per_class.items()}


def _walkers(first_id: int, specs: list[tuple[str, float, float, int, float, int]]) -> tuple[Actor, ...]:
    return tuple(Actor(first_id + i, *spec) for i, spec in enumerate(specs))


def _routed(actor_id: int, sprite: str, start_s: float, ground: float, height: int,
            route: tuple[tuple[float, float], ...]) -> Actor:
    return Actor(actor_id, sprite, start_s, 0.0, 1, ground, height, route)


# The counting scene's line and zone (normalised; see stream_reader/scene_lines.py). The line is drawn from the
# bottom of the picture upwards, so its right-hand side, "in", is the right half: walking rightwards is "in".
COUNTING_LINE = ((0.5, 0.98), (0.5, 0.35))
COUNTING_ZONE = ((0.55, 0.55), (0.95, 0.55), (0.95, 0.99), (0.55, 0.99))
# Per period: in 4 (a walker, the one who lingers on the line, the fast one, the one who turns back), out 4 (a
# walker, the two side by side, the one who turns back); the turner crosses in a second time, not counted again.
COUNTING_TRUTH = {"in": 4, "out": 4}
_SWAY = tuple((18 + 2 * i, 640 + (5 if i % 2 else -5)) for i in range(1, 8))  # +-5 px on the line for 14 s


# Speeds are px/s at 1280x720; the pipeline samples 1 frame/s by default, so a walker moves 25-45 px between
# sampled frames (a person walking across a street seen from a first-floor window).
SCENES: dict[str, Scene] = {
    "walkway": Scene(
        "walkway", 80.0,
        _walkers(1, [
            ("man_jacket", 0, 30, +1, 0.80, 230),
            ("man_dark_coat", 6, 26, -1, 0.62, 200),
            ("zidane", 18, 34, +1, 0.95, 250),
            ("man_jacket", 30, 28, -1, 0.70, 210),
            ("man_dark_coat", 44, 32, +1, 0.88, 240),
        ]),
        description="people walking across the frame in both directions, about 2-3 at a time",
    ),
    "crossing": Scene(
        "crossing", 60.0,
        _walkers(1, [
            ("man_jacket", 0, 40, +1, 0.78, 230),
            ("man_dark_coat", 0, 40, -1, 0.86, 250),  # the two meet mid-frame: one passes in front of the other
            ("zidane", 15, 30, +1, 0.66, 200),
            ("man_jacket", 20, 36, -1, 0.94, 270),
        ]),
        description="pairs walking towards each other and crossing (brief occlusion)",
    ),
    "traffic": Scene(
        "traffic", 90.0,
        _walkers(1, [
            ("bus", 0, 45, +1, 0.75, 330),
            ("man_jacket", 10, 30, -1, 0.97, 250),
            ("zidane", 40, 32, +1, 0.97, 230),
            ("bus", 50, 50, -1, 0.70, 300),
        ]),
        description="buses driving through, people walking along the near pavement",
    ),
    "empty": Scene("empty", 30.0, (), description="the background alone: every detection is a false one"),
    "counting": Scene(
        "counting", 100.0,
        (
            Actor(1, "man_jacket", 0, 40, +1, 0.80, 230),  # in
            Actor(2, "man_dark_coat", 5, 35, -1, 0.90, 240),  # out
            # Walks up to the line, stands on it swaying +-5 px for 14 s, then walks on: in, once.
            _routed(3, "zidane", 8, 0.70, 210, ((0, -80), (18, 640), *_SWAY, (34, 640), (53, 1400))),
            Actor(4, "man_dark_coat", 40, 200, +1, 0.95, 250),  # fast: 200 px/s (5x a walker), in
            Actor(5, "zidane", 49, 45, -1, 0.97, 200),  # these two cross side by side, out, within 0.4 s
            Actor(6, "man_jacket", 50, 45, -1, 0.66, 200),
            # In, back out, in again: counted in once and out once.
            _routed(7, "man_jacket", 56, 0.85, 230, ((0, -40), (14, 760), (17, 760), (23, 520), (26, 520),
                                                      (29, 760), (44, 1340))),
        ),
        description="people crossing a counting line a known number of times each way: one lingers on it, one "
                    "is fast, two cross side by side, one turns back",
    ),
}


def get_scene(name: str) -> Scene:
    try:
        return SCENES[name]
    except KeyError:
        raise ValueError(f"unknown scene {name!r}; choose one of {', '.join(SCENES)}") from None
