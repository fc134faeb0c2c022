"""Requests to addresses that others give us (webhook receivers, a CAP alert's audio link), kept off our own network.

Anyone who may register a webhook or send a CAP alert could otherwise make the service fetch from or post to the
machines around it: its own loopback services, the cloud's metadata address, the office network. So:

- every address a host name resolves to is checked, and one loopback, link-local, private, multicast,
  unspecified, reserved or otherwise not public address refuses the request, unless its network is allowed
  (``OUTBOUND_ALLOW_NETWORKS``, e.g. a receiver on the province's own network);
- the connection is made to the address that was checked, in the same step, so a name that resolves to a public
  address once and to 127.0.0.1 the next time (DNS rebinding) gains nothing. TLS still checks the certificate
  against the host name (SNI), and the Host header is the URL's;
- proxies from the environment are not used (a proxy would resolve the name again, unchecked);
- a download is bounded in bytes and in total time, whatever the server's pace.

This module knows nothing of the web application or the database.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 addresses reached through a NAT64 gateway
_READ_CHUNK = 1 << 16


class Refused(Exception):  # noqa: N818 - a refusal, not a failure to reach the address
    """The address is not one the service sends requests to; ``reason`` says what kind it is."""

    def __init__(self, host: str, address: str, kind: str):
        super().__init__(f"{host} is {address} ({kind} address): not allowed (see OUTBOUND_ALLOW_NETWORKS)")
        self.host, self.address, self.kind = host, address, kind


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.20.0.0/16, 127.0.0.1"`` as networks (a lone address is its /32 or /128); raises ValueError."""
    networks = []
    for part in (text or "").split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{part.strip()!r} is not a network; write e.g. 10.20.0.0/16 or 127.0.0.1") from None
    return tuple(networks)


def _embedded(ip: Address) -> Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), which is where the packets really go."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _kind(ip: Address) -> str | None:
    """What makes ``ip`` internal, or None for a public address."""
    for test, kind in ((ip.is_unspecified, "unspecified"), (ip.is_loopback, "loopback"),
                       (ip.is_link_local, "link-local"), (ip.is_multicast, "multicast"),
                       (ip.is_private, "private"), (ip.is_reserved, "reserved"), (not ip.is_global, "non-public")):
        if test:
            return kind
    return None


@dataclass(frozen=True)
class OutboundPolicy:
    """Which addresses requests may go to: public ones, and those in ``allow``."""

    allow: tuple[Network, ...] = ()

    @classmethod
    def from_text(cls, text: str) -> OutboundPolicy:
        return cls(parse_networks(text))

    def refusal(self, address: str) -> str | None:
        """Why ``address`` (an IP address as text) is refused, or None when requests may go there."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") is no part of it
        inner = _embedded(ip)
        if any(candidate in net for net in self.allow for candidate in (ip, inner) if candidate is not None):
            return None
        return _kind(inner) if inner is not None else _kind(ip)

    def resolve(self, host: str, port: int) -> list[tuple]:
        """Every address ``host`` has, as ``getaddrinfo`` gives them; raises Refused when one is refused
        (socket.gaierror when the name does not resolve)."""
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for *_, sockaddr in found:
            kind = self.refusal(sockaddr[0])
            if kind is not None:
                raise Refused(host, sockaddr[0], kind)
        return found

    def check_url(self, url: str) -> None:
        """Raise Refused if ``url``'s host is or resolves to a refused address. A name that does not resolve now
        passes: it is checked again on every request."""
        parts = urlsplit(url)
        try:
            self.resolve(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except (socket.gaierror, UnicodeError):
            pass


PUBLIC_ONLY = OutboundPolicy()


def _pinned(base: type[HTTPConnection], policy: OutboundPolicy) -> type[HTTPConnection]:
    """A connection class that resolves and checks its host, then connects to a checked address only."""

    class PinnedConnection(base):
        def _new_conn(self) -> socket.socket:
            try:
                found = policy.resolve(self._dns_host, self.port)
            except socket.gaierror as exc:
                raise NameResolutionError(self.host, self, exc) from exc
            last: OSError | None = None
            for _family, _type, _proto, _name, sockaddr in found:
                try:
                    # A numeric address: create_connection resolves nothing more.
                    return connection.create_connection((sockaddr[0], self.port), self.timeout,
                                                        source_address=self.source_address,
                                                        socket_options=self.socket_options)
                except TimeoutError as exc:
                    raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
                except OSError as exc:
                    last = exc
            raise NewConnectionError(self, f"Failed to establish a new connection: {last}")

    return PinnedConnection


class PinnedAdapter(HTTPAdapter):
    """requests' adapter whose connection pools connect only to addresses the policy allows."""

    def __init__(self, policy: OutboundPolicy, **options):
        self.policy = policy
        super().__init__(**options)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        http_pool = type("PinnedHTTPConnectionPool", (HTTPConnectionPool,),
                         {"ConnectionCls": _pinned(HTTPConnection, self.policy)})
        https_pool = type("PinnedHTTPSConnectionPool", (HTTPSConnectionPool,),
                          {"ConnectionCls": _pinned(HTTPSConnection, self.policy)})
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise requests.exceptions.InvalidProxyURL("outbound requests use no proxy: it would resolve names unchecked")


def session(policy: OutboundPolicy) -> requests.Session:
    """A requests session whose every connection, redirects included, goes only where ``policy`` allows."""
    made = requests.Session()
    made.trust_env = False  # no proxy, no .netrc credentials from the environment
    adapter = PinnedAdapter(policy)
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    return made


def download(url: str, target: Path, policy: OutboundPolicy, *, max_bytes: int, timeout_s: float,
             max_redirects: int = 3) -> None:
    """Save ``url`` (http or https) into ``target``: at most ``max_bytes`` (decoded), within about ``timeout_s``
    seconds in all. Raises Refused for a refused address (nothing is sent there), OSError for anything else."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise OSError(f"not an http(s) address: {url}")
    deadline = time.monotonic() + timeout_s
    with session(policy) as sender:
        sender.max_redirects = max_redirects
        try:
            with sender.get(url, stream=True, timeout=timeout_s) as response:
                if response.status_code != 200:
                    raise OSError(f"HTTP {response.status_code} {response.reason or ''}".rstrip())
                length = response.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > max_bytes:
                    raise OSError(f"larger than {max_bytes} bytes")
                total = 0
                with target.open("wb") as out:
                    # read1 returns after one read from the socket, so a server sending a byte at a time cannot
                    # hold the download past the deadline.
                    while chunk := response.raw.read1(_READ_CHUNK, decode_content=True):
                        total += len(chunk)
                        if total > max_bytes:
                            raise OSError(f"larger than {max_bytes} bytes")
                        if time.monotonic() > deadline:
                            raise OSError(f"not downloaded within {timeout_s:g} s")
                        out.write(chunk)
        except requests.RequestException as exc:
            raise OSError(f"cannot download: {root_cause(exc)}") from None


def root_cause(exc: BaseException) -> str:
    """The innermost error, which names the actual problem (refused, name not resolved, TLS)."""
    while exc.__cause__ is not None or (exc.__context__ is not None and not exc.__suppress_context__):
        exc = exc.__cause__ or exc.__context__
    return str(exc) or type(exc).__name__
