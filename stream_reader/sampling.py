"""Which decoded frames to keep, and their capture times (pure logic, clock values passed in).

Live HLS arrives in bursts: a whole segment (1–6 s of video) is decoded in a few milliseconds, then nothing
until the next segment. Pacing by "now >= next due time" alone would keep one frame per burst (1 frame/s at
2 frames/s requested) or keep neighbouring frames. So the schedule combines two clocks:

- wall clock: a token bucket refilled at ``fps`` tokens per second caps the long-run rate (a file or a
  catch-up burst can never produce more than ``fps`` frames per wall-clock second on average);
- stream (media) time: within a burst, frames are spaced ``1/fps`` apart in the stream's own timestamps, so
  the kept frames are spread evenly through the segment.

When the stream's timestamps are unusable (missing, stuck), a full bucket forces a sample, so the rate falls
back to plain wall-clock pacing instead of stopping. The bucket starts full and holds ``burst_seconds`` of
frames (:func:`burst_seconds`: four segments). Two segments often arrive in one burst: FFmpeg's HLS demuxer
reloads the playlist once per segment length, and a reload that just misses a segment brings two the next
time. The bucket's level stays where the first burst left it (it fills as fast as it empties), so with room
for two segments only, such a burst found it short, lost its frames and shifted the sampling off the
keyframes. Four segments' worth absorbs it and is still too little to let a backlog turn into a flood.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def burst_seconds(segment_s: float | None) -> float:
    """The token bucket's size for a stream with segments (or reads) ``segment_s`` long; see the module doc."""
    return 4 * max(1.0, segment_s or 1.0)


class SampleSchedule:
    """Decide per decoded frame whether to keep it: at most ``fps`` per wall-clock second on average."""

    def __init__(self, fps: float, *, burst_seconds: float = 10.0, start: float | None = None):
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.fps = fps
        self.interval = 1.0 / fps
        self.capacity = max(1.0, fps * burst_seconds)
        self._tokens = self.capacity  # a full bucket: the first segment yields its share, not a single frame
        self._last_wall = start
        self._next_media: float | None = None
        self._last_media: float | None = None
        self.kept = 0

    def offer(self, now: float, media_s: float | None = None) -> bool:
        """``True`` if the frame decoded at monotonic time ``now`` (stream time ``media_s``) is to be kept."""
        if self._last_wall is None:
            self._last_wall = now
        self._tokens = min(self.capacity, self._tokens + max(0.0, now - self._last_wall) * self.fps)
        self._last_wall = now
        if self._tokens < 1.0:
            return False
        due = media_s is not None and self._media_due(media_s)
        if not due and self._tokens < self.capacity:
            return False
        self._take(media_s)
        return True

    @property
    def next_media_due(self) -> float | None:
        """Stream time from which the next frame is due (``None``: the next frame with a timestamp is)."""
        return self._next_media

    def _media_due(self, media_s: float) -> bool:
        last = self._last_media
        self._last_media = media_s
        if self._next_media is None:
            return True
        if last is not None and (media_s < last - 1.0 or media_s > last + 60.0):
            self._next_media = None  # the stream's clock jumped (discontinuity): start spacing afresh
            return True
        return media_s >= self._next_media - 1e-6

    def _take(self, media_s: float | None) -> None:
        self._tokens -= 1.0
        self.kept += 1
        if media_s is None:
            return
        if self._next_media is None:
            self._next_media = media_s + self.interval
        else:  # stay on the grid for an exact rate, but never keep two frames closer than half an interval
            self._next_media = max(self._next_media + self.interval, media_s + self.interval / 2)


class KeyframeGate:
    """Whether the decoder must decode the frames that follow, or may skip to the next keyframe.

    Frames between two keyframes can be decoded only in order from the first (each refers to the one before),
    and only to keep one of them. So once the schedule's next due time lies at or beyond the next keyframe, no
    frame before that keyframe is needed: the decoder may drop them undecoded (FFmpeg's ``skip_frame=NONKEY``).
    Keyframes are always decoded. At 1 frame/s from a stream with a keyframe every second that leaves one
    decoded frame in 30; with one every 2 s, half.

    The next keyframe is expected after the longest keyframe interval seen in this session, once that interval
    has come twice: a scene cut inserts a short one, and expecting a keyframe too early would skip a due frame,
    while expecting it too late only decodes a few frames more. Skipping, once started, lasts until the next
    keyframe: a frame decoded after skipped ones would show their missing pictures. Until then, without
    timestamps, after the stream's clock jumps, and for good once a keyframe is long overdue (a stream without
    regular keyframes), everything is decoded.
    """

    SAME_S = 0.05  # two keyframe intervals this close are the same (timestamps jitter)
    OVERDUE_S = 10.0  # beyond the longest interval seen: the stream no longer sends regular keyframes

    def __init__(self) -> None:
        self._longest: float | None = None  # the longest interval between keyframes seen
        self._seen_longest = 0  # how often an interval that long came
        self._last_key: float | None = None
        self.skipping = False
        self.enabled = True

    @property
    def keyframe_interval(self) -> float | None:
        """The interval after which the next keyframe is expected, once it is known."""
        return self._longest if self._seen_longest >= 2 else None

    def decode(self, media_s: float | None, keyframe: bool, next_due: float | None) -> bool:
        """Called per packet before it goes to the decoder: ``False`` while its frame may be dropped."""
        if not self.enabled:
            return True
        if media_s is None:  # nothing to learn from; a skip under way goes on to the next keyframe
            self.skipping = self.skipping and not keyframe
            return not self.skipping
        if keyframe:
            self._keyframe(media_s)
        interval, last_key = self.keyframe_interval, self._last_key
        if interval is None or last_key is None:
            return True
        if media_s > last_key + interval + self.OVERDUE_S:
            self.enabled, self.skipping = False, False
            return True
        if not self.skipping and next_due is not None and next_due >= last_key + interval - 1e-6:
            self.skipping = True  # nothing is due before the next keyframe
        return keyframe or not self.skipping

    def _keyframe(self, media_s: float) -> None:
        self.skipping = False
        last, self._last_key = self._last_key, media_s
        if last is None:
            return
        interval = media_s - last
        if not 0 < interval <= 60.0:  # the stream's clock jumped: learn the keyframe interval afresh
            self._longest, self._seen_longest = None, 0
        elif self._longest is None or interval > self._longest + self.SAME_S:
            self._longest, self._seen_longest = interval, 1
        elif interval >= self._longest - self.SAME_S:
            self._longest, self._seen_longest = max(interval, self._longest), self._seen_longest + 1


class CaptureClock:
    """UTC capture times that come from the wall clock yet never go backwards and never repeat.

    Anchored once to the wall clock, then advanced by the monotonic clock, so an NTP step during a session
    cannot reorder frames; consecutive times differ by at least one millisecond (Pulsar's event-time unit).
    """

    def __init__(self, wall: datetime, monotonic: float):
        if wall.tzinfo is None:
            raise ValueError("wall must be timezone-aware")
        self._wall = wall.astimezone(UTC)
        self._mono = monotonic
        self._last: datetime | None = None

    def at(self, monotonic: float) -> datetime:
        moment = self._wall + timedelta(seconds=monotonic - self._mono)
        moment = moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
        if self._last is not None and moment <= self._last:
            moment = self._last + timedelta(milliseconds=1)
        self._last = moment
        return moment
