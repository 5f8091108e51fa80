"""What the aggregator's loop calls for zones and lines: load state and definitions before a batch, count what
the window machine counted, add the zone rows and snapshots to each flush (one transaction with the windows')."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from aggregator.rows import Flush
from aggregator.zones import Definitions, ZoneMachine
from core.messages import DetectionMessage
from core.settings import Settings

if TYPE_CHECKING:
    from aggregator.store import PostgresStore

Retrying = Callable[[Callable[[], Any]], Any]


class ZoneSource(Protocol):
    def load_definitions(self, stream_ids: set[int]) -> dict[int, Definitions]: ...

    def load_state(self, stream_ids: set[int]) -> dict[int, dict]: ...


class ZoneCounting:
    """Zone definitions cached per stream for ``refresh_s`` (a new version counts from the next reload on)."""

    def __init__(self, machine: ZoneMachine, source: ZoneSource, refresh_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.machine = machine
        self.source = source
        self.refresh_s = refresh_s
        self._clock = clock
        self._loaded_at: dict[int, float] = {}

    def prepare(self, stream_ids: Iterable[int], retrying: Retrying) -> None:
        """Before a batch: restore unknown streams' state, reload stale definitions."""
        ids = set(stream_ids)
        self._restore(self.machine.unknown(ids), retrying)
        now = self._clock()
        stale = {s for s in ids if now - self._loaded_at.get(s, float("-inf")) >= self.refresh_s}
        if stale:
            loaded = retrying(lambda: self.source.load_definitions(stale))
            for stream_id in stale:
                self.machine.set_definitions(stream_id, loaded.get(stream_id, Definitions()))
                self._loaded_at[stream_id] = now

    def add(self, message: DetectionMessage) -> None:
        self.machine.add(message)

    def take(self, flush: Flush, retrying: Retrying) -> None:
        """Close the zone windows of the windows ``flush`` closes; attach the rows and snapshots to it."""
        closed = [(row.stream_id, row.window_start) for row in flush.frame_windows]
        self._restore(self.machine.unknown(s for s, _ in closed), retrying)
        zones = self.machine.take(closed)
        if zones:
            flush.zones = zones

    def forget(self, stream_id: int) -> None:
        self.machine.forget(stream_id)
        self._loaded_at.pop(stream_id, None)

    def evict(self) -> int:
        return self.machine.evict()

    def _restore(self, unknown: set[int], retrying: Retrying) -> None:
        if unknown:
            states = retrying(lambda: self.source.load_state(unknown))
            for stream_id in unknown:
                self.machine.restore(stream_id, states.get(stream_id))


def zone_counting(settings: Settings, store: PostgresStore) -> ZoneCounting | None:
    """The worker's zone counting from the settings (None when ``zones_enabled`` is off)."""
    if not settings.zones_enabled:
        return None
    from aggregator.zone_store import PostgresZoneSource

    machine = ZoneMachine(settings.window_seconds, band=settings.zone_line_band,
                          track_ttl_s=settings.zone_track_ttl_s)
    return ZoneCounting(machine, PostgresZoneSource(store), settings.zone_refresh_s)
