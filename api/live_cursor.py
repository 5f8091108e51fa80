"""Where a reader of the event log stands: the highest id seen, and the lower ids it may still see commit.

Ids come from a sequence, taken when a writer's trigger runs, so a transaction that started earlier can commit
after a later one: reading ``id > last`` alone would skip it for ever. The cursor keeps the ids it jumped over
("gaps") for ``gap_seconds`` and asks for them again; a gap left by a rolled-back transaction simply expires.
Pure logic, no I/O: the hub (api.live) feeds it what each read returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_GAPS = 10_000  # a burst of rollbacks must not grow the query without bound


@dataclass
class Cursor:
    last: int
    gap_seconds: float = 30.0
    gaps: dict[int, float] = field(default_factory=dict)  # id -> when first missed (monotonic seconds)

    def pending_gaps(self, now: float) -> list[int]:
        """The missed ids still worth asking for (expired ones are forgotten)."""
        for gap in [g for g, since in self.gaps.items() if now - since > self.gap_seconds]:
            del self.gaps[gap]
        return sorted(self.gaps)

    def advance(self, ids: list[int], now: float) -> list[int]:
        """Take the ids one read returned (new ones above ``last`` and filled gaps); the ids not delivered before,
        in the order to deliver them."""
        fresh: list[int] = []
        for event_id in sorted(set(ids)):
            if event_id in self.gaps:
                del self.gaps[event_id]
                fresh.append(event_id)
            elif event_id > self.last:
                for missing in range(max(self.last + 1, event_id - MAX_GAPS), event_id):
                    if len(self.gaps) >= MAX_GAPS:
                        break
                    self.gaps.setdefault(missing, now)
                self.last = event_id
                fresh.append(event_id)
        return fresh
