"""The narrow interface between data sources (updaters, commands) and the transport.

Updaters and commands depend only on :class:`Fetcher`, so they can be driven by the real
HTTP transport, by the simulator over sockets, or by an in-memory fixture reader.
"""

from __future__ import annotations

from typing import Protocol

import msgspec


class Response(msgspec.Struct, frozen=True):
    """One HTTP response as seen by the client."""

    status: int
    body: bytes
    content_type: str = ""
    elapsed_ms: float = 0.0


class Fetcher(Protocol):
    """Performs one request against the Envoy and returns the raw response.

    Implementations raise ``EnvoyCommunicationError``/``EnvoyTimeoutError`` for transport
    failures and ``EnvoyAuthenticationRequired`` for 401/403; any other status is returned.
    """

    async def request(self, method: str, path: str, *, body: bytes | None = None) -> Response:
        """Send ``method path`` (path includes any query string) with an optional JSON body."""
        ...
