"""Sets of integers kept as sorted, disjoint, inclusive ranges.

Sequence numbers of a reader session are (nearly) contiguous, so the set of sequences already counted in closed
windows stays a handful of ranges however long the session runs: small in memory and cheap to persist.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator


class IntRanges:
    """A set of ints as ``[(lo, hi), ...]`` (inclusive, sorted, disjoint, never adjacent)."""

    __slots__ = ("_his", "_los")

    def __init__(self, ranges: Iterable[Iterable[int]] = ()):
        self._los: list[int] = []
        self._his: list[int] = []
        pairs = sorted((int(lo), int(hi)) for lo, hi in ranges)
        for lo, hi in pairs:
            if lo > hi:
                raise ValueError(f"empty range [{lo}, {hi}]")
            self._append(lo, hi)

    def _append(self, lo: int, hi: int) -> None:
        """Append a range that starts at or after the last one starts."""
        if self._his and lo <= self._his[-1] + 1:
            if hi > self._his[-1]:
                self._his[-1] = hi
        else:
            self._los.append(lo)
            self._his.append(hi)

    @classmethod
    def of(cls, values: Iterable[int]) -> IntRanges:
        ranges = cls()
        ranges.update(values)
        return ranges

    def __iter__(self) -> Iterator[int]:
        for lo, hi in zip(self._los, self._his, strict=True):
            yield from range(lo, hi + 1)

    def __contains__(self, value: int) -> bool:
        i = bisect_right(self._los, value) - 1
        return i >= 0 and value <= self._his[i]

    def __len__(self) -> int:
        """Number of integers in the set."""
        return sum(hi - lo + 1 for lo, hi in zip(self._los, self._his, strict=True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntRanges) and self.ranges() == other.ranges()

    def __repr__(self) -> str:
        return f"IntRanges({self.ranges()!r})"

    def ranges(self) -> list[list[int]]:
        """The ranges as JSON-ready ``[[lo, hi], ...]``."""
        return [[lo, hi] for lo, hi in zip(self._los, self._his, strict=True)]

    def copy(self) -> IntRanges:
        clone = IntRanges()
        clone._los = self._los.copy()
        clone._his = self._his.copy()
        return clone

    def update(self, values: Iterable[int]) -> None:
        """Add integers (any order, duplicates allowed)."""
        new = sorted(set(values))
        if not new:
            return
        runs: list[tuple[int, int]] = []
        lo = hi = new[0]
        for value in new[1:]:
            if value == hi + 1:
                hi = value
            else:
                runs.append((lo, hi))
                lo = hi = value
        runs.append((lo, hi))
        if not self._los or runs[0][0] >= self._los[-1]:
            # The usual case: the new sequences come at or after the last range counted so far.
            for lo, hi in runs:
                self._append(lo, hi)
            return
        merged = sorted([*zip(self._los, self._his, strict=True), *runs])
        self._los, self._his = [], []
        for lo, hi in merged:
            self._append(lo, hi)
