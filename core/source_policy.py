"""Which sources a stream URL (or a webhook URL) may point at: one policy for the API, the CLI and the reader.

Registration runs inside the deployment's network, so a URL is a request the server makes on someone's
behalf (server-side request forgery). By default only public addresses are allowed: ``file://``, loopback,
private, link-local (cloud metadata), shared, multicast and reserved ranges are refused, in IPv4 and IPv6,
IPv4-mapped / NAT64 / 6to4 forms included, and host names are resolved and every address checked. The check
runs again right before each connection (the reader re-resolves), so a name that changes its answer after
registration (DNS rebinding) is refused then. ``allow_local`` (STREAMSCOPE_ALLOW_LOCAL_SOURCES) lets the CLI,
the demo and tests use streams on this machine or the LAN; it never allows another scheme.

Pure apart from :func:`check_connect`, which calls the resolver it is given.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]

STREAM_SCHEMES = frozenset({"http", "https", "rtsp", "rtsps"})
WEBHOOK_SCHEMES = frozenset({"http", "https"})
LOCAL_SCHEMES = frozenset({"file"})  # allowed only with allow_local
DEFAULT_PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322}
# Names that mean "this machine" or "this network" whatever DNS says.
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback",
                         "metadata", "metadata.google.internal", "instance-data"})
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")
# Ranges Python's is_global does not cover on every version, or that reach a server-side network anyway.
EXTRA_REFUSED = tuple(ipaddress.ip_network(net) for net in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4", "255.255.255.255/32",
    "64:ff9b:1::/48", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "::/128", "::1/128",
))


class SourceRefused(ValueError):
    """The URL points somewhere this deployment does not read from; ``reason`` says where and what to do."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (what a connection would pick from)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    allow_local: bool = False
    schemes: frozenset[str] = STREAM_SCHEMES
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_settings(cls, settings, *, webhook: bool = False) -> SourcePolicy:
        schemes = WEBHOOK_SCHEMES if webhook else STREAM_SCHEMES
        return cls(allow_local=bool(getattr(settings, "allow_local_sources", False)), schemes=schemes)

    def check_url(self, url: str) -> None:
        """Static check (no DNS): scheme, credentials, literal addresses and local names."""
        check_url(url, self)

    def check_connect(self, url: str) -> None:
        """The static check, then resolve the host now and check every address it has."""
        check_connect(url, self)


def refused_address(address: IPAddress) -> str | None:
    """Why ``address`` is not a public one (None when it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return refused_address(embedded)
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_private:
        return "a private network address"
    if address.is_reserved or any(address in net for net in EXTRA_REFUSED if net.version == address.version):
        return "a reserved address"
    if not address.is_global:
        return "an address that is not public"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = int(address)
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    if packed >> 32 == 0 and packed > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed)
    return None


def parse_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one, including forms browsers and libc accept (0x7f.1, 2130706433)."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    if text and all(part and (part.isdigit() or part.lower().startswith("0x")) for part in text.split(".")):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))  # octal, hex and short dotted forms
        except (OSError, ValueError):
            return None
    return None


def check_url(url: str, policy: SourcePolicy) -> None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in LOCAL_SCHEMES and policy.schemes != WEBHOOK_SCHEMES:  # a webhook is never a file
        if policy.allow_local:
            return
        raise SourceRefused("file URLs are not accepted here: the server's own files are not a stream")
    if scheme not in policy.schemes:
        allowed = ", ".join(sorted(policy.schemes))
        raise SourceRefused(f"the scheme {scheme or '(none)'!r} is not accepted: use {allowed}")
    if parts.username is not None or parts.password is not None:
        raise SourceRefused("credentials in the URL are not accepted (sources must be public)")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise SourceRefused("the URL has no host")
    if policy.allow_local:
        return
    address = parse_address(host)
    if address is not None:
        why = refused_address(address)
        if why:
            raise SourceRefused(f"{host} is {why}; only public addresses are accepted")
        return
    if host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES) or "." not in host:
        raise SourceRefused(f"{host} names a local machine; only public addresses are accepted")


def check_connect(url: str, policy: SourcePolicy) -> None:
    """Refuse ``url`` unless its host resolves, right now, only to addresses the policy allows."""
    check_url(url, policy)
    parts = urlsplit(url)
    if policy.allow_local or parts.scheme.lower() in LOCAL_SCHEMES:
        return
    host = (parts.hostname or "").rstrip(".").lower()
    if parse_address(host) is not None:
        return  # a literal address was checked above
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 443)
        addresses = list(policy.resolver(host, port))
    except (OSError, UnicodeError, ValueError):
        raise SourceRefused(f"the host name {host} does not resolve; check the URL") from None
    if not addresses:
        raise SourceRefused(f"the host name {host} does not resolve; check the URL")
    for text in addresses:
        address = parse_address(text)
        why = refused_address(address) if address is not None else "not an address"
        if why:
            raise SourceRefused(f"{host} resolves to {why}; only public addresses are accepted")
