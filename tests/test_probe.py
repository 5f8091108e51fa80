"""core.probe: redirects are checked before they are followed; people read short reasons, the log the raw text."""

from __future__ import annotations

import http.server
import threading

import pytest

from core.probe import StreamUnreachable, follow_redirects, human_reason
from core.source_policy import SourcePolicy
from tests.api.test_hostile import Listener


@pytest.fixture
def redirector():
    """An HTTP server on 127.0.0.1 that redirects every GET to ``server.target``."""

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", self.server.target)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("target", "words"), [
    ("http://localhost:{port}/live.m3u8", "redirects to a refused address"),
    ("http://[::ffff:127.0.0.1]:{port}/", "redirects to a refused address"),
    ("http://169.254.169.254/latest/meta-data/", "redirects to a refused address"),
    ("file:///etc/passwd", "no video"),  # urllib itself never follows a redirect to another scheme
])
def test_a_redirect_into_a_refused_range_is_not_followed(redirector, target, words) -> None:
    listener = Listener()
    try:
        redirector.target = target.format(port=listener.port)
        start = f"http://127.0.0.1:{redirector.server_address[1]}/live.m3u8"  # the first hop is the caller's check
        with pytest.raises(StreamUnreachable, match=words):
            follow_redirects(start, SourcePolicy(), timeout_s=5)
        assert listener.connections == 0
    finally:
        listener.close()


def test_allowed_redirects_are_followed_to_the_end(redirector) -> None:
    listener = Listener()  # accepts and closes: the fetch fails there, after following the redirect
    try:
        redirector.target = f"http://127.0.0.1:{listener.port}/live.m3u8"
        with pytest.raises(StreamUnreachable):
            follow_redirects(f"http://127.0.0.1:{redirector.server_address[1]}/", SourcePolicy(allow_local=True), 5)
        assert listener.seen.wait(5)
    finally:
        listener.close()


@pytest.mark.parametrize(("raw", "words"), [
    ("[generic] Unsupported URL: http://x/", "no video found"),
    ("Unable to download webpage: <urlopen error [Errno -2] Name or service not known>", "does not resolve"),
    ("Unable to download webpage: <urlopen error [Errno 111] Connection refused>", "refused the connection"),
    ("Unable to download webpage: The read operation timed out", "did not answer in time"),
    ("Unable to download webpage: HTTP Error 404: Not Found", "404"),
    ("[youtube] abc: Private video. Sign in if you've been granted access", "sign-in"),
    ("[youtube] abc: Video unavailable", "unavailable"),
    ("[youtube] abc: This live event will begin in 3 hours.", "not started"),
    ("Something odd; please report this issue on https://github.com/yt-dlp/yt-dlp/issues", "server log"),
])
def test_people_read_short_reasons_without_yt_dlp_text(raw, words) -> None:
    reason = human_reason(raw)
    assert words in reason
    assert "yt-dlp" not in reason and "github" not in reason and "http" not in reason and len(reason) < 100
