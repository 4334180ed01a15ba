"""Plain texts for aiohttp transport failures (callers add ``host:port`` or the URL).

aiohttp's own texts embed the SSL context's repr and the OS error tuple (``Cannot connect
to host h:1 ssl:<ssl.SSLContext object at 0x…> [Connect call failed ('h', 1)]``); these
texts reach logs, ``bridge/info`` and CLI errors, so they are rebuilt from the attributes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import aiohttp

from envoy2mqtt.redact import redact
from envoy2mqtt.tls_errors import certificate_problem, find_ssl_error, scrub_reprs, ssl_reason

__all__ = ["describe_client_error", "peer_of"]

_HTTPS_HINT = "wrong version number"


def peer_of(error: aiohttp.ClientConnectorError) -> str:
    """``host:port`` of a failed connection (IPv6 in brackets)."""
    host = error.host
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"{host}:{error.port}" if error.port is not None else host


def describe_client_error(error: BaseException) -> str:
    """The reason ``error`` (an aiohttp or OS error) ended the request, in plain words."""
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason(error)
    text = scrub_reprs(redact(str(error)))[:200]
    if text and type(error).__module__.startswith("envoy2mqtt."):
        return text  # our own wrappers already say it in words
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _untrusted(error: Any) -> str:
    return f"TLS certificate not trusted: {certificate_problem(error) or 'verification failed'}"


def _handshake(error: Any) -> str:
    found = find_ssl_error(error)
    reason = ssl_reason(found) if found is not None else "handshake failed"
    hint = " (does this port speak HTTPS?)" if _HTTPS_HINT in reason.lower() else ""
    return f"TLS handshake failed: {reason}{hint}"


def _os_reason(error: OSError) -> str:
    if error.errno is not None and error.errno > 0:
        return os.strerror(error.errno).lower()
    if error.strerror:
        return scrub_reprs(error.strerror).lower()
    return scrub_reprs(str(error)) or type(error).__name__


# Most specific first: aiohttp's connector errors subclass one another.
_REASONS: tuple[tuple[type[BaseException], Callable[[Any], str]], ...] = (
    (aiohttp.ClientConnectorCertificateError, _untrusted),
    (aiohttp.ClientSSLError, _handshake),
    (
        aiohttp.ClientConnectorDNSError,
        lambda e: f"cannot resolve the host name ({_os_reason(e.os_error)})",
    ),
    (aiohttp.ClientConnectorError, lambda e: f"cannot connect ({_os_reason(e.os_error)})"),
    (
        aiohttp.ServerDisconnectedError,
        lambda _: "the server closed the connection without answering",
    ),
    (aiohttp.ClientPayloadError, lambda _: "the response body broke off"),
    (aiohttp.ClientResponseError, lambda e: f"HTTP {e.status} {e.message}".strip()),
    (OSError, _os_reason),
)
