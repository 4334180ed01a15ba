"""Keep secrets (passwords, tokens, cookies, Authorization headers) out of logs and texts.

Two layers work together:

* explicit secrets: every password or token the process handles is passed to
  :func:`register_secret`; each occurrence is replaced by ``***`` wherever :func:`redact` runs;
* patterns: anything that looks like a bearer token, a JWT, a cookie or an Authorization
  header is scrubbed even if nobody registered it.

Registering the first secret installs a log-record factory, so every log record created
afterwards (any logger, any handler, pytest's caplog included) is scrubbed at creation.
:class:`RedactingFilter` is available for handlers that receive records from elsewhere.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

# Short values would mangle unrelated text (a 2-char password matching every "ab" in a log)
# while protecting little; they are still covered by the pattern layer where it applies.
_MIN_SECRET_LEN = 4

_SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # header-style lines: "Authorization: Digest ...", "Set-Cookie: sessionId=..."
    (
        re.compile(r"(?i)\b((?:proxy-)?authorization|set-cookie|cookie)(\s*[:=]\s*)[^\r\n,}]+"),
        rf"\1\2{MASK}",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    # any JWT (three base64url parts, header starting with '{"' -> "eyJ")
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    (
        re.compile(
            r"(?i)(\b(?:password|passwd|token|session_?id|sessionid|manager_token)"
            r"\]?[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
        ),
        rf"\1{MASK}",
    ),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_factory_installed = False


def register_secret(value: str | None) -> None:
    """Remember ``value`` as a secret to scrub from every log record and redacted text.

    Empty and very short values are ignored (see ``_MIN_SECRET_LEN``).
    """
    if not value or len(value) < _MIN_SECRET_LEN:
        return
    with _lock:
        _secrets.add(value)
    install_log_redaction()


def redact(text: str) -> str:
    """Return ``text`` with registered secrets and secret-looking fragments replaced by ``***``."""
    with _lock:
        # longest first so a secret containing another one is masked as a whole
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_bytes(body: bytes) -> bytes:
    """Return ``body`` with every registered secret replaced (no pattern layer: bodies are data)."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        body = body.replace(secret.encode(), MASK.encode())
    return body


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return a copy of ``headers`` without auth/cookie values and with other values redacted."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, str] = {}
    for key, value in items:
        result[key] = MASK if key.lower() in _SENSITIVE_HEADERS else redact(value)
    return result


def _scrub_record(record: logging.LogRecord) -> None:
    """Redact ``record`` in place, touching it only when something had to be masked.

    Records without secrets keep their ``msg``/``args`` so handlers and tests that inspect
    them still see the originals.
    """
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a broken format string must not break logging
        message = str(record.msg)
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        if redact(text) != text:
            record.exc_text = redact(text)
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """Logging filter that scrubs the message, arguments and traceback of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub ``record`` in place; never drops it."""
        _scrub_record(record)
        return True


def install_log_redaction() -> None:
    """Scrub every log record at creation time (idempotent, process-wide)."""
    global _factory_installed  # noqa: PLW0603 - one process-wide switch by design
    with _lock:
        if _factory_installed:
            return
        _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub_record(record)
        return record

    logging.setLogRecordFactory(factory)
