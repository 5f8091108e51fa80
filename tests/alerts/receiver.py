"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 that records every POST it gets.

``hold`` makes it keep the first request open until released (a delivery in flight when its worker is killed);
``status`` is what it answers."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    def __init__(self, port: int = 0, status: int = 200, hold: bool = False):
        self.status, self.requests, self._changed = status, [], threading.Condition()
        self.hold, self.release = hold, threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._changed:
                    receiver.requests.append(Received(dict(self.headers.items()), body, time.monotonic()))
                    first = len(receiver.requests) == 1
                    receiver._changed.notify_all()
                if receiver.hold and first:
                    receiver.release.wait(60)
                try:
                    self.send_response(receiver.status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender was killed while the request was held

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout_s: float) -> list[Received]:
        """Block until ``count`` requests arrived (or fail after ``timeout_s``)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= count, timeout_s):
                raise AssertionError(f"{len(self.requests)} of {count} POSTs arrived within {timeout_s} s")
            return list(self.requests)
