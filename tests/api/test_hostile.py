"""Hostile input (issue 22): a table of attacks on POST/PATCH /api/streams, query parameters and the CLI.

Local sources are NOT allowed here (the default), the real prober is used, and a TCP listener on 127.0.0.1
must see no connection: each refused address is refused before anything connects. A control test shows the
listener does see the probe when local sources are allowed, so "no connection" means something.
"""

from __future__ import annotations

import socket
import threading

import pytest
from typer.testing import CliRunner

from tests.api.conftest import AUTH, make_client
from tests.api.test_writes import table_state


class Listener:
    """Accepts connections on 127.0.0.1 and counts them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.seen = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.seen.set()
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def strict(api_settings):
    return api_settings.model_copy(update={"allow_local_sources": False})


@pytest.fixture
def strict_client(strict, fresh, now):
    with make_client(strict, now) as client:
        yield client


MB = "x" * (1024 * 1024)
# (url template, what the reason must say); {port} is the listener's. POSTed with check=true (the real probe).
HOSTILE_URLS = [
    ("http://127.0.0.1:{port}/live.m3u8", "loopback"),
    ("http://localhost:{port}/live.m3u8", "local machine"),
    ("http://[::ffff:127.0.0.1]:{port}/live.m3u8", "loopback"),
    ("http://[::1]:{port}/", "loopback"),
    ("http://[64:ff9b::7f00:1]:{port}/", "loopback"),
    ("http://2130706433:{port}/live.m3u8", "loopback"),
    ("http://0x7f.0.0.1:{port}/live.m3u8", "loopback"),
    ("http://0177.0.0.1:{port}/live.m3u8", "loopback"),
    ("http://0.0.0.0:{port}/live.m3u8", "unspecified"),
    ("http://foo.localhost:{port}/live.m3u8", "local machine"),
    ("rtsp://127.0.0.1:{port}/cam", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::ffff:169.254.169.254]/latest/meta-data/", "link-local"),
    ("http://metadata.google.internal/computeMetadata/v1/", "local machine"),
    ("rtsp://10.0.0.1/cam", "private"),
    ("http://192.168.1.1/live.m3u8", "private"),
    ("http://172.16.0.5/live.m3u8", "private"),
    ("http://[fd00::1]/live.m3u8", "private"),
    ("http://[fe80::1]/live.m3u8", "link-local"),
    ("http://224.0.0.1/live.m3u8", "multicast"),
    ("http://100.64.0.1/live.m3u8", "address"),
    ("file:///etc/passwd", "file URLs"),
    ("file://localhost/etc/passwd", "file URLs"),
    ("gopher://127.0.0.1:{port}/_HELO", "scheme"),
    ("dict://127.0.0.1:{port}/info", "scheme"),
    ("ftp://example.com/live.m3u8", "scheme"),
    ("http://user:secret@example.com/live.m3u8", "credentials"),
    ("http://admin@127.0.0.1:{port}/", "credentials"),
    ("http://127.0.0.1:{port}/live.m3u8\r\nHost: evil", "control characters"),
    ("http://example.com/live.m3u8%0d%0aSet-Cookie:x=1", "encoded control"),
    ("http://ｌｏｃａｌｈｏｓｔ:{port}/live.m3u8", "invalid host"),
    ("http://127。0。0。1:{port}/live.m3u8", "invalid host"),
    ("http://уоutube.com/watch?v=dQw4w9WgXcQ", "invalid host"),
]


@pytest.mark.parametrize(("template", "reason"), HOSTILE_URLS)
def test_post_hostile_urls_are_refused_before_any_connection(strict_client, strict, listener, template,
                                                           reason) -> None:
    before, seen = table_state(strict), listener.connections
    answer = strict_client.post("/api/streams", headers=AUTH, json={"url": template.format(port=listener.port)})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "url" and reason in error["message"], error
    assert table_state(strict) == before
    assert listener.connections == seen, "a refused address was connected to"


# (method, path, request keyword arguments, status, words in the message)
HOSTILE_REQUESTS = [
    ("POST", "/api/streams", {"json": {"url": "https://youtu.be/ddddddddddd", "name": MB}}, 413, "larger than"),
    ("POST", "/api/streams", {"content": b"{" + b" " * (1024 * 1024) + b"}",
                              "headers": {"Content-Type": "application/json"}}, 413, "larger than"),
    ("POST", "/api/streams", {"content": b'{"url": "dQw4w9WgXcQ", "check": false}',
                              "headers": {"Content-Type": "text/plain"}}, 415, "application/json"),
    ("POST", "/api/streams", {"data": {"url": "dQw4w9WgXcQ"}}, 415, "application/json"),
    ("POST", "/api/streams", {"files": {"url": ("u", b"dQw4w9WgXcQ")}}, 415, "application/json"),
    ("POST", "/api/streams", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 422, "JSON"),
    ("POST", "/api/streams", {"json": {"url": ["dQw4w9WgXcQ"]}}, 422, "string"),
    ("POST", "/api/streams", {"json": {"url": "https://youtu.be/ddddddddddd", "check": False, "name": "n" * 1001}},
     422, "1000"),
    ("POST", "/api/streams", {"json": {"url": "https://youtu.be/ddddddddddd", "check": False, "name": "a\r\nb"}},
     422, "control"),
    ("POST", "/api/streams", {"json": {"url": "https://example.com/" + "a" * 5000, "check": False}}, 422, "4096"),
    ("POST", "/api/streams", {"json": {"url": "https://youtu.be/ddddddddddd", "check": False, "admin": True}},
     422, "not permitted"),
    ("POST", "/api/streams", {"content": b'{"url": "https://youtu.be/ddddddddddd", "check": false, "fps": NaN}',
                              "headers": {"Content-Type": "application/json"}}, 422, "fps"),
    ("PATCH", "/api/streams/0", {"json": {"paused": True}}, 422, "greater than or equal to 1"),
    ("PATCH", "/api/streams/-1", {"json": {"paused": True}}, 422, "greater than or equal to 1"),
    ("PATCH", "/api/streams/2147483648", {"json": {"paused": True}}, 422, "less than or equal"),
    ("PATCH", "/api/streams/99999999999999999999999", {"json": {"paused": True}}, 422, "less than or equal"),
    ("PATCH", "/api/streams/1e3", {"json": {"paused": True}}, 422, "integer"),
    ("PATCH", "/api/streams/1", {"json": {"url": "file:///etc/passwd"}}, 422, "not permitted"),
    ("PATCH", "/api/streams/1", {"json": {"name": "n" * 1001}}, 422, "1000"),
    ("PATCH", "/api/streams/1", {"json": {"name": "bad\x00name"}}, 422, "NUL"),
    ("PATCH", "/api/streams/1", {"json": {"name": MB}}, 413, "larger than"),
    ("PATCH", "/api/streams/1", {"content": b'{"paused": true}', "headers": {"Content-Type": "text/html"}}, 415,
     "application/json"),
    ("PATCH", "/api/streams/1", {"content": b'{"fps": 1e309}', "headers": {"Content-Type": "application/json"}},
     422, "fps"),
    ("PATCH", "/api/streams/1", {"json": {"paused": "yes"}}, 422, "boolean"),
    ("DELETE", "/api/streams/0", {}, 422, "greater than or equal to 1"),
    ("GET", "/api/streams", {"params": {"q": "q" * 201}}, 422, "200"),
    ("GET", "/api/streams", {"params": {"q": "a\r\nb"}}, 422, "control"),
    ("GET", "/api/streams", {"params": {"limit": 100000}}, 422, "limit"),
    ("GET", "/api/streams", {"params": {"offset": -1}}, 422, "offset"),
    ("GET", "/api/streams", {"params": {"status": "bogus"}}, 422, "status"),
    ("GET", "/api/streams/2147483648", {}, 422, "less than or equal"),
    ("GET", "/api/streams/1/objects", {"params": {"from": "1700000000"}}, 422, "ISO 8601"),
    ("GET", "/api/streams/1/objects", {"params": {"from": "yesterday"}}, 422, "from"),
    ("GET", "/api/streams/1/snapshot", {"headers": {"If-None-Match": "x" * 3000}}, 422, "2000"),
    ("GET", "/api/rankings", {"params": {"object": "o" * 1000}}, 422, "longer than"),
    ("GET", "/api/rankings", {"params": {"object": "person\r\nX-Injected: 1"}}, 422, "control"),
    ("GET", "/api/rankings", {"params": {"object": "person", "limit": 0}}, 422, "limit"),
    ("GET", "/api/rankings", {"params": {"object": "person", "window": "100y"}}, 422, "window"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "words"), HOSTILE_REQUESTS)
def test_hostile_requests_are_refused_with_a_reason_and_write_nothing(strict_client, strict, listener, method,
                                                                    path, kwargs, status, words) -> None:
    before, seen = table_state(strict), listener.connections
    headers = {**AUTH, **kwargs.pop("headers", {})} if method != "GET" else kwargs.pop("headers", {})
    answer = strict_client.request(method, path, headers=headers, **kwargs)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["status"] == status and words.lower() in error["message"].lower(), error
    assert table_state(strict) == before
    assert listener.connections == seen


CLI_URLS = [
    ("http://127.0.0.1:{port}/live.m3u8", "loopback"),
    ("http://localhost:{port}/live.m3u8", "local machine"),
    ("http://[::ffff:127.0.0.1]:{port}/live.m3u8", "loopback"),
    ("file:///etc/passwd", "file URLs"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("rtsp://10.0.0.1/cam", "private"),
    ("gopher://127.0.0.1:{port}/", "scheme"),
]


@pytest.mark.parametrize(("template", "reason"), CLI_URLS)
def test_cli_refuses_local_sources_unless_allowed(runtime, clean_db_for_cli, listener, monkeypatch, template,
                                                  reason) -> None:
    from core.cli import app
    from core.settings import get_settings

    monkeypatch.setenv("STREAMSCOPE_ALLOW_LOCAL_SOURCES", "false")
    get_settings.cache_clear()
    seen = listener.connections
    try:
        result = CliRunner().invoke(app, ["streams", "add", template.format(port=listener.port)])
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert reason in result.output
    assert table_state(runtime) == clean_db_for_cli
    assert listener.connections == seen


@pytest.fixture
def clean_db_for_cli(runtime, fresh):
    return table_state(runtime)


def test_control_the_listener_does_see_the_probe_when_local_sources_are_allowed(api_settings, fresh, now,
                                                                               listener) -> None:
    """Without this, "the listener saw nothing" could mean the listener is deaf."""
    listener.seen.clear()
    allowed = api_settings.model_copy(update={"allow_local_sources": True, "resolve_timeout_s": 2})
    with make_client(allowed, now) as client:
        answer = client.post("/api/streams", headers=AUTH, json={"url": f"http://127.0.0.1:{listener.port}/x.m3u8"})
    assert answer.status_code == 422  # the listener closes at once: no stream there
    assert listener.seen.is_set()
    assert "stream" in answer.json()["error"]["message"] and "http" not in answer.json()["error"]["message"]
