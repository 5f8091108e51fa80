"""core.source_policy as a table (pure, with fake resolvers), and the reader's re-check at connect time."""

from __future__ import annotations

import pytest

from core.probe import StreamUnreachable
from core.source_policy import SourcePolicy, SourceRefused, check_connect, check_url
from stream_reader.resolve import resolve

STRICT = SourcePolicy(resolver=lambda host, port: ["93.184.215.14"])  # every name "resolves" to a public address

REFUSED = [
    ("file:///etc/passwd", "file URLs"),
    ("gopher://example.com/", "scheme"),
    ("ftp://example.com/", "scheme"),
    ("http://user:pw@example.com/", "credentials"),
    ("http://127.0.0.1/", "loopback"),
    ("http://127.1.2.3:8080/", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://0x7f.0.0.1/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:7f00:1]/", "loopback"),
    ("http://[64:ff9b::7f00:1]/", "loopback"),
    ("http://[2002:7f00:1::]/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("rtsp://10.0.0.1/cam", "private"),
    ("http://172.16.0.5/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[fd00::1]/", "private"),
    ("http://100.64.0.1/", "address"),
    ("http://198.18.0.1/", "address"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "address"),
    ("http://localhost/", "local machine"),
    ("http://LOCALHOST./", "local machine"),
    ("http://cams.localhost/", "local machine"),
    ("http://metadata.google.internal/", "local machine"),
    ("http://printer.local/", "local machine"),
    ("http://intranet/", "local machine"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_refused_sources_say_why(url: str, reason: str) -> None:
    with pytest.raises(SourceRefused) as refused:
        check_connect(url, STRICT)
    assert reason in refused.value.reason


@pytest.mark.parametrize("url", ["https://www.youtube.com/watch?v=jfKfPfyJRdk", "http://8.8.8.8/live.m3u8",
                                 "rtsp://[2606:4700::1111]/cam", "https://cdn.example.com:8443/a.m3u8"])
def test_public_sources_pass(url: str) -> None:
    check_connect(url, STRICT)


@pytest.mark.parametrize("answer", [["10.1.2.3"], ["93.184.215.14", "127.0.0.1"], ["::ffff:192.168.0.1"], []])
def test_a_name_that_resolves_to_any_refused_address_is_refused(answer) -> None:
    policy = SourcePolicy(resolver=lambda host, port: answer)
    check_url("https://cams.example.com/live.m3u8", policy)  # the static check cannot know
    with pytest.raises(SourceRefused, match="resolve"):
        check_connect("https://cams.example.com/live.m3u8", policy)


def test_a_name_that_does_not_resolve_is_refused_not_passed_through() -> None:
    def fails(host, port):
        raise OSError("Name or service not known")

    with pytest.raises(SourceRefused, match="does not resolve"):
        check_connect("https://cams.example.com/live.m3u8", SourcePolicy(resolver=fails))


def test_allow_local_admits_this_machine_but_no_other_scheme() -> None:
    local = SourcePolicy(allow_local=True)
    for url in ("http://127.0.0.1:8000/live.m3u8", "http://localhost/", "rtsp://10.0.0.1/cam", "file:///tmp/x.mp4"):
        check_connect(url, local)
    with pytest.raises(SourceRefused, match="scheme"):
        check_connect("gopher://127.0.0.1/", local)
    with pytest.raises(SourceRefused, match="credentials"):
        check_connect("http://a:b@127.0.0.1/", local)


def test_webhook_policy_takes_http_only() -> None:
    class Config:
        allow_local_sources = False

    hooks = SourcePolicy.from_settings(Config(), webhook=True)
    with pytest.raises(SourceRefused, match="scheme"):
        check_url("rtsp://8.8.8.8/cam", hooks)
    with pytest.raises(SourceRefused, match="loopback"):
        check_url("http://127.0.0.1:9/hook", hooks)


def test_the_reader_re_resolves_at_connect_time_so_dns_rebinding_is_refused() -> None:
    """Public at registration, loopback when the reader connects: the reader refuses before asking yt-dlp."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    policy = SourcePolicy(resolver=lambda host, port: next(answers))
    url = "http://rebind.example.com/live.m3u8"
    check_connect(url, policy)  # what registration saw
    asked = []

    def extract(url: str, timeout_s: float) -> dict:
        asked.append(url)
        return {}

    with pytest.raises(StreamUnreachable, match="loopback"):
        resolve(url, "hls", max_height=720, timeout_s=1, extract=extract, policy=policy)
    assert asked == []


def test_the_reader_refuses_a_format_url_that_points_inside() -> None:
    """yt-dlp's answer (after its redirects) is checked too: a playlist on a public host naming a private one."""
    policy = SourcePolicy(resolver=lambda host, port: ["10.0.0.7"] if host == "inside.example.com"
                          else ["93.184.215.14"])

    def extract(url: str, timeout_s: float) -> dict:
        return {"url": "http://inside.example.com/seg.m3u8", "protocol": "m3u8_native", "ext": "mp4",
                "is_live": True, "formats": [{"url": "http://inside.example.com/seg.m3u8", "format_id": "0",
                                              "protocol": "m3u8_native", "vcodec": "avc1", "height": 360}]}

    with pytest.raises(StreamUnreachable, match="private"):
        resolve("http://public.example.com/live.m3u8", "hls", max_height=720, timeout_s=1, extract=extract,
                policy=policy)
