"""The HTTP connection pool the bridge shares between all Envoys: one idle connection each.

An Envoy's poll tiers run concurrently, so where their ticks meet the pool opens several
connections to the same Envoy. aiohttp hands idle connections out oldest first; a fast tier
polling more often than the keep-alive timeout therefore keeps *all* of them warm, and the
peak stays open for good. Every TLS connection holds asyncio's 256 KiB read buffer (about
0.75 MiB per Envoy with three of them). This pool closes the surplus as connections come
back, keeping the most recently used one: the one the next fast poll reuses. Concurrency is
not limited here; only idle connections are.

:func:`limit_tls_read_buffer` shrinks that per-connection buffer for the whole process:
asyncio offers no per-connection setting, and Envoy bodies are read in chunks anyway. 16 KiB
is the largest TLS record's plaintext, so each read still takes a whole record.
"""

from __future__ import annotations

import asyncio.sslproto
from collections.abc import Iterable
from typing import Any

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ConnectionKey

__all__ = [
    "TLS_READ_BUFFER",
    "IdleCappedConnector",
    "http_keepalive",
    "limit_tls_read_buffer",
    "shared_session",
]

#: aiohttp's own default keep-alive, kept as the floor.
MIN_KEEPALIVE = 15.0

#: Read buffer per TLS connection set by :func:`limit_tls_read_buffer` (asyncio: 256 KiB).
TLS_READ_BUFFER = 16 * 1024


class IdleCappedConnector(aiohttp.TCPConnector):
    """A :class:`aiohttp.TCPConnector` keeping at most ``max_idle_per_host`` idle connections.

    Args:
        max_idle_per_host: Idle connections kept per host; the least recently used go.
        **kwargs: Passed on to :class:`aiohttp.TCPConnector`.
    """

    def __init__(self, *, max_idle_per_host: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_idle = max(max_idle_per_host, 1)

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
    ) -> None:
        super()._release(key, protocol, should_close=should_close)
        idle = self._conns.get(key)
        if idle is None or len(idle) <= self._max_idle:
            return
        ranked = sorted(idle, key=lambda entry: entry[1])  # (protocol, last use)
        keep = ranked[-self._max_idle :]
        for proto, _ in ranked[: -self._max_idle]:
            proto.close()
        idle.clear()
        idle.extend(keep)


def http_keepalive(fast_intervals: Iterable[float]) -> float:
    """Keep-alive (seconds) long enough for the slowest fast tier to reuse its connection."""
    return max([MIN_KEEPALIVE, *(1.5 * interval for interval in fast_intervals)])


def limit_tls_read_buffer(size: int = TLS_READ_BUFFER) -> None:
    """Make every asyncio TLS connection opened from now on allocate ``size`` bytes to read.

    asyncio's SSL protocol reads (and allocates) ``max_size`` bytes per connection; the
    attribute is a class-level default. A no-op if a Python version lacks it.
    """
    protocol = asyncio.sslproto.SSLProtocol
    if isinstance(getattr(protocol, "max_size", None), int):
        protocol.max_size = size


def shared_session(keepalive: float) -> aiohttp.ClientSession:
    """The bridge's HTTP session for all Envoys (cookies are handled per Envoy, not here)."""
    connector = IdleCappedConnector(keepalive_timeout=keepalive)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
