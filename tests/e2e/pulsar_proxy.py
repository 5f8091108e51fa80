"""A Pulsar binary-protocol proxy that can make one topic unreachable while the rest of the broker answers.

pulsar-lite has no admin API to fence a topic, and a plain TCP cut would take every topic of a client down with
it. This proxy reads the protocol's frames (``[total size][command size][BaseCommand][payload]``, see Pulsar's
``docs/BinaryProtocol.md``) just far enough to know which producer a ``SEND`` belongs to. While a topic is cut,
its lookups, producer registrations and sends are swallowed, so the client sees what it would see from an
unreachable topic owner: no answer, then its own timeouts. Everything else passes through unchanged, except that
lookup answers ask the client to stay on the proxy (``proxy_through_service_url``), as a Pulsar proxy does;
otherwise the client would follow the broker's own address around the proxy.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading

# BaseCommand.Type values and field numbers (PulsarApi.proto); a sub-command's field number equals its type here.
PRODUCER, SEND, LOOKUP, LOOKUP_RESPONSE = 5, 6, 23, 24
PROXY_THROUGH_SERVICE_URL = 8  # CommandLookupTopicResponse field


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def fields(message: bytes) -> list[tuple[int, int, int | bytes]]:
    """The (field number, wire type, value) of a protobuf message; only the wire types Pulsar's commands use."""
    out: list[tuple[int, int, int | bytes]] = []
    i = 0
    while i < len(message):
        key, i = _varint(message, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(message, i)
            out.append((number, wire, value))
        elif wire == 2:
            size, i = _varint(message, i)
            out.append((number, wire, message[i:i + size]))
            i += size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            out.append((number, wire, message[i:i + width]))
            i += width
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    return out


def encode(parts: list[tuple[int, int, int | bytes]]) -> bytes:
    out = bytearray()
    for number, wire, value in parts:
        out += _encode_varint(number << 3 | wire)
        if wire == 0:
            out += _encode_varint(int(value))  # type: ignore[arg-type]
        elif wire == 2:
            out += _encode_varint(len(value)) + value  # type: ignore[arg-type]
        else:
            out += value  # type: ignore[operator]
    return bytes(out)


def _field(parts, number: int, default=None):
    return next((value for n, _w, value in parts if n == number), default)


class TopicCutProxy:
    """Listens on 127.0.0.1 (a free port) in a thread of its own and forwards to the broker on ``upstream_port``."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.cut_topics: set[str] = set()
        self.swallowed = 0  # frames not forwarded because their topic was cut
        self._loop = asyncio.new_event_loop()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True, name="pulsar-proxy")
        self._thread.start()
        ready.wait(10)

    @property
    def url(self) -> str:
        return f"pulsar://127.0.0.1:{self.port}"

    def cut(self, topic: str) -> None:
        self.cut_topics.add(topic.rsplit("/", 1)[-1])

    def restore(self) -> None:
        self.cut_topics.clear()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _is_cut(self, topic: bytes | None) -> bool:
        return topic is not None and topic.decode(errors="replace").rsplit("/", 1)[-1] in self.cut_topics

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _serve(self, client_reader, client_writer) -> None:
        try:
            broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.close()
            return
        producers: dict[int, bytes] = {}  # this connection's producer ids -> topic
        await asyncio.gather(self._pump(client_reader, broker_writer, self._outbound, producers),
                             self._pump(broker_reader, client_writer, self._inbound, producers),
                             return_exceptions=True)
        for writer in (client_writer, broker_writer):
            writer.close()

    async def _pump(self, reader, writer, rewrite, producers) -> None:
        try:
            while True:
                total = struct.unpack(">I", await reader.readexactly(4))[0]
                frame = await reader.readexactly(total)
                out = rewrite(frame, producers)
                if out is not None:
                    writer.write(struct.pack(">I", len(out)) + out)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _outbound(self, frame: bytes, producers: dict[int, bytes]) -> bytes | None:
        kind, command = _command(frame)
        topic = None
        if kind == PRODUCER:
            parts = fields(command)
            topic = _field(parts, 1)
            producers[int(_field(parts, 2, -1))] = topic
        elif kind == SEND:
            topic = producers.get(int(_field(fields(command), 1, -1)))
        elif kind == LOOKUP:
            topic = _field(fields(command), 1)
        if self._is_cut(topic):
            self.swallowed += 1
            return None
        return frame

    def _inbound(self, frame: bytes, producers: dict[int, bytes]) -> bytes:
        kind, command = _command(frame)
        if kind != LOOKUP_RESPONSE:
            return frame
        parts = [p for p in fields(command) if p[0] != PROXY_THROUGH_SERVICE_URL]
        lookup = encode([*parts, (PROXY_THROUGH_SERVICE_URL, 0, 1)])
        base = encode([(1, 0, LOOKUP_RESPONSE), (LOOKUP_RESPONSE, 2, lookup)])
        return struct.pack(">I", len(base)) + base  # a lookup answer carries no payload


def _command(frame: bytes) -> tuple[int, bytes]:
    """The type of a frame's BaseCommand and the bytes of its sub-command of that type."""
    size = struct.unpack(">I", frame[:4])[0]
    parts = fields(frame[4:4 + size])
    kind = int(_field(parts, 1, 0))
    return kind, _field(parts, kind, b"")
