"""Name TLS failures in plain words, whatever library wrapped them.

aiohttp and aiomqtt wrap :class:`ssl.SSLError` in their own exceptions whose texts carry
``repr()`` noise (``ssl:<ssl.SSLContext object at 0x…>``, ``(_ssl.c:1006)``); the original
error stays reachable through ``__cause__``/``__context__`` or an attribute. This module
finds it and says what went wrong: an untrusted certificate (and why), or a failed handshake.
"""

from __future__ import annotations

import re
import ssl

__all__ = ["certificate_problem", "find_ssl_error", "scrub_reprs", "ssl_reason"]

_SSL_PREFIX = re.compile(r"^\[[A-Z_]+: [A-Z0-9_]+\]\s*")
_SSL_SUFFIX = re.compile(r"\s*\(_ssl\.c:\d+\)$")
_OBJECT_REPR = re.compile(r"<[^<>]*? object at 0x[0-9A-Fa-f]+>")
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")


def find_ssl_error(error: BaseException | None) -> ssl.SSLError | None:
    """The first :class:`ssl.SSLError` in ``error``'s chain (itself, causes, contexts)."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        # aiohttp's wrappers subclass SSLError themselves but keep the original (with its
        # verify_message) as an attribute: look there first.
        inner = [getattr(current, name, None) for name in ("certificate_error", "os_error")]
        wrapped = [error for error in inner if isinstance(error, BaseException)]
        if not wrapped and isinstance(current, ssl.SSLError):
            return current
        pending += [*wrapped, current.__cause__, current.__context__]
    return None


def certificate_problem(error: BaseException | None) -> str | None:
    """Why the peer's certificate was not trusted (``self-signed certificate``), if that failed."""
    found = find_ssl_error(error)
    if not isinstance(found, ssl.SSLCertVerificationError):
        return None
    message = getattr(found, "verify_message", None)
    return str(message) if message else ssl_reason(found)


def ssl_reason(error: ssl.SSLError) -> str:
    """The OpenSSL reason in words: ``wrong version number``, ``certificate verify failed``."""
    text = str(error.args[1]) if len(error.args) > 1 else str(error)
    text = _SSL_SUFFIX.sub("", _SSL_PREFIX.sub("", text)).strip()
    if text:
        return text
    reason = getattr(error, "reason", None)
    return str(reason).lower().replace("_", " ") if reason else type(error).__name__


def scrub_reprs(text: str) -> str:
    """Drop Python's ``[Errno 104]`` prefixes and replace ``<… object at 0x…>`` reprs by ``…``."""
    return _ERRNO.sub("", _OBJECT_REPR.sub("…", text))
