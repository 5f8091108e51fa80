"""The live-update hub of one API process: one Postgres LISTEN connection, fanned out to every event stream.

Database triggers (migration 0008_live) append each change to ``live_events`` and NOTIFY ``streamscope_live``.
The hub reads the log after each notification, and every ``live_poll_s`` seconds without one (a lost or
impossible LISTEN costs at most that delay), and hands each new row to the subscribers' queues. The database
work is therefore per process, not per client: one connection and one indexed read per wake-up however many
browsers listen; a client costs a queue and a waiting task. A subscriber too slow to keep up is told to
reload ("reset") instead of holding memory. The hub starts with its first subscriber and stops with its last.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import make_url, text

from api.live_cursor import Cursor
from core.backoff import Backoff
from core.db.engine import sqlalchemy_url
from core.runtime import database_url
from core.settings import Settings

log = logging.getLogger("streamscope.live")
CHANNEL = "streamscope_live"
QUEUE_SIZE = 1000  # events a subscriber may lag behind before it is told to reload
READ_LIMIT = 5000  # rows per read of the log
PRUNE_EVERY_S = 60.0
COLUMNS = "id, stream_id, kind, payload, created_at"


@dataclass(frozen=True)
class Event:
    id: int
    stream_id: int
    kind: str  # status, window, anomaly (alert once the alerts tables announce themselves)
    payload: dict[str, Any]

    @classmethod
    def from_row(cls, row: Any) -> Event:
        payload = row[3] if isinstance(row[3], dict) else json.loads(row[3])
        return cls(int(row[0]), int(row[1]), str(row[2]), payload)


RESET = Event(0, 0, "reset", {})  # the subscriber fell behind: reload everything


@dataclass(eq=False)
class Subscriber:
    stream_id: int | None  # None: every stream
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def wants(self, event: Event) -> bool:
        return self.stream_id is None or event.stream_id == self.stream_id

    def offer(self, event: Event) -> None:
        if not self.wants(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESET)


class Full(Exception):
    """Already ``live_max_clients`` event streams open in this process."""


def psycopg_url(settings: Settings) -> str:
    """The libpq form of the configured (or embedded) database URL."""
    url = make_url(sqlalchemy_url(database_url(settings))).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class LiveHub:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.subscribers: set[Subscriber] = set()
        self.cursor: Cursor | None = None
        self.listening = False  # LISTEN is active (else only the poll wakes the hub)
        self.reads = 0  # reads of the log since start (measured by the tests and docs)
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event = asyncio.Event()

    # --- subscribers -----------------------------------------------------------------------------------
    async def subscribe(self, stream_id: int | None, timeout_s: float = 10.0) -> Subscriber:
        """A new subscriber, once the hub reads the log (so its cursor is known); ``Full`` over the bound."""
        if len(self.subscribers) >= self.settings.live_max_clients:
            raise Full()
        subscriber = Subscriber(stream_id)
        self.subscribers.add(subscriber)
        try:
            self._start()
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        except BaseException:
            self.unsubscribe(subscriber)
            raise
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        if not self.subscribers and self._task is not None:
            self._task.cancel()
            self._task = None
            self._ready = asyncio.Event()
            self.listening = False
            self.cursor = None  # a restarted hub starts at the log's end; clients resume by Last-Event-ID

    @property
    def position(self) -> int:
        return self.cursor.last if self.cursor else 0

    # --- the log -----------------------------------------------------------------------------------------
    def replay(self, engine: Any, after: int, upto: int, stream_id: int | None) -> tuple[list[Event], bool]:
        """Events ``after < id <= upto`` (of one stream or all), oldest first, and whether the log still reaches
        back to ``after`` (False: pruned meanwhile, the client must reload). Blocking: run in a thread."""
        where = "id > :after AND id <= :upto" + (" AND stream_id = :sid" if stream_id is not None else "")
        with engine.connect() as conn:
            oldest = conn.execute(text("SELECT min(id) FROM live_events")).scalar()
            rows = conn.execute(text(f"SELECT {COLUMNS} FROM live_events WHERE {where} ORDER BY id LIMIT :limit"),
                                {"after": after, "upto": upto, "sid": stream_id, "limit": QUEUE_SIZE}).all()
        complete = (oldest is None or oldest <= after + 1) and len(rows) < QUEUE_SIZE
        return [Event.from_row(row) for row in rows], complete

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="streamscope-live-hub")

    async def _run(self) -> None:
        backoff = Backoff(0.5, 30.0)
        last_prune = 0.0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(psycopg_url(self.settings), autocommit=True,
                                                                 connect_timeout=10) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening = True
                    if self.cursor is None:
                        start = await (await conn.execute("SELECT coalesce(max(id), 0) FROM live_events")).fetchone()
                        self.cursor = Cursor(int(start[0]) if start else 0)
                    self._ready.set()
                    backoff.reset()
                    while True:
                        await self._read(conn)
                        if time.monotonic() - last_prune > PRUNE_EVERY_S:
                            last_prune = time.monotonic()
                            await conn.execute("DELETE FROM live_events WHERE created_at < now() - make_interval("
                                               "mins => %s)", [self.settings.live_retention_minutes])
                        async for _ in conn.notifies(timeout=self.settings.live_poll_s, stop_after=1):
                            pass
            except (psycopg.Error, OSError) as error:
                self.listening = False
                delay = backoff.next_delay()
                log.warning("live updates: the database connection failed (%s); again in %.1f s", error, delay)
                await asyncio.sleep(delay)

    async def _read(self, conn: psycopg.AsyncConnection) -> None:
        assert self.cursor is not None
        gaps = self.cursor.pending_gaps(time.monotonic())
        query = f"SELECT {COLUMNS} FROM live_events WHERE id > %s"
        params: list[Any] = [self.cursor.last]
        if gaps:
            query += " OR id = ANY(%s)"
            params.append(gaps)
        rows = await (await conn.execute(query + " ORDER BY id LIMIT %s", [*params, READ_LIMIT])).fetchall()
        self.reads += 1
        by_id = {int(row[0]): row for row in rows}
        for event_id in self.cursor.advance(list(by_id), time.monotonic()):
            event = Event.from_row(by_id[event_id])
            for subscriber in list(self.subscribers):
                subscriber.offer(event)


def hub_for(app: Any, settings: Settings) -> LiveHub:
    """The app's hub, made on first use (the app object outlives requests; tests build one app each)."""
    hub = getattr(app.state, "live_hub", None)
    if hub is None:
        hub = LiveHub(settings)
        app.state.live_hub = hub
    return hub

