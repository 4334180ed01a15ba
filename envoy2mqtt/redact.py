"""The safety net that keeps secrets out of logs and texts: it masks only what is one.

Secrets are typed (:class:`envoy2mqtt.secret.Secret`, pydantic ``SecretStr``) and never
reach a format string; this module catches what slips through anyway, by structure:

* ``password=…``/``token=…``-style pairs (also ``"password": "…"``, ``user[password]=…``,
  ``access_token``, ``api_key``, ``session_id``, ``client_secret``…), which covers URL
  query parameters named like secrets;
* the password of URL credentials (``mqtt://user:pw@host``);
* Authorization / Cookie / Set-Cookie header values, bearer and basic credentials, JWTs;
* every registered secret (:func:`register_secret`), but only as a whole token: with the
  password ``envoy``, ``envoy2mqtt``, ``client_id=envoy2mqtt``, ``envoys=1`` and
  ``envoy.local`` stay as they are, while ``password was envoy`` is masked.

Registering the first secret installs a log-record factory, so every log record created
afterwards (any logger, any handler, pytest's caplog included) is scrubbed at creation.
:class:`RedactingFilter` is available for handlers that receive records from elsewhere.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

# Short values would mask unrelated words while protecting little; they are still covered
# by the structural patterns.
_MIN_SECRET_LEN = 4

_SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})

# Key names whose value is a secret: the key ends with one of these words (access_token,
# user[password], X-Auth-Token…); what comes before the word does not matter.
_SENSITIVE_NAME = r"(?:password|passwd|passphrase|secret|token|api[_-]?key|session[_-]?id)"


# Each pattern runs only when one of its trigger words is in the lower-cased text: most log
# lines have none, and the patterns are then skipped instead of scanned for (logging at
# debug level creates a record per HTTP call and per publish).
_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    # header-style lines: "Authorization: Digest a=1, response=...", "Set-Cookie: sessionId=..."
    # (to the end of the line or quoted value: digest parameters are separated by commas)
    (
        ("authorization", "cookie"),
        re.compile(r"(?i)\b((?:proxy-)?authorization|set-cookie|cookie)(\s*[:=]\s*)[^\r\n}\"']+"),
        rf"\1\2{MASK}",
    ),
    (
        ("bearer", "basic"),
        re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
        rf"\1 {MASK}",
    ),
    # any JWT (three base64url parts, header starting with '{"' -> "eyJ")
    (("eyj",), re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    # URL credentials: scheme://user:password@host
    (("://",), re.compile(r"(://[^\s:/@]*:)[^\s/@]+@"), rf"\1{MASK}@"),
    # key=value, key: value, "key": "value", user[password]=value, ?token=value&...
    (
        ("pass", "secret", "token", "key", "session"),
        re.compile(
            rf"(?i)({_SENSITIVE_NAME}\]?[\"']?\s*[:=]\s*[\"']?)(?!{re.escape(MASK)})"
            r"[^\"'&;\s,}]+"
        ),
        rf"\1{MASK}",
    ),
)

# A registered secret counts only as a whole token: not inside a word, nor joined to one by
# ".", "-" or "/" (envoy.local, my-envoy, envoy2mqtt/bridge/state), so words stay readable.
_BEFORE = r"(?<![A-Za-z0-9_])(?<![A-Za-z0-9_][./-])"
_AFTER = r"(?![A-Za-z0-9_])(?![./-][A-Za-z0-9_])"

_lock = threading.Lock()
_secrets: set[str] = set()
# the same, longest first, so a secret containing another one is masked as a whole
_ordered: tuple[str, ...] = ()
_factory_installed = False


def register_secret(value: str | None) -> None:
    """Remember ``value`` as a secret to scrub (as a whole token) wherever redaction runs.

    Empty and very short values are ignored (see ``_MIN_SECRET_LEN``). Nothing is compiled
    here: one alternation of all secrets, recompiled (by ``re``'s parser, in Python, in the
    event loop) after every registration, cost a bridge that registers a token per Envoy
    ≈ 20 s of blocked loop while 200 Envoys started — long enough for the broker's
    acknowledgements to be read too late and the MQTT connection to be given up.
    """
    global _ordered  # noqa: PLW0603 - one process-wide registry by design
    if not value or len(value) < _MIN_SECRET_LEN:
        return
    with _lock:
        if value not in _secrets:
            _secrets.add(value)
            _ordered = tuple(sorted(_secrets, key=len, reverse=True))
    install_log_redaction()


@functools.cache
def _pattern(secret: str) -> re.Pattern[str]:
    """One secret as a whole token; compiled only once the secret was found in a text."""
    return re.compile(f"{_BEFORE}{re.escape(secret)}{_AFTER}")


@functools.cache
def _bytes_pattern(secret: bytes) -> re.Pattern[bytes]:
    return re.compile(_BEFORE.encode() + re.escape(secret) + _AFTER.encode())


def redact(text: str) -> str:
    """Return ``text`` with registered secrets and secret-shaped fragments replaced by ``***``."""
    return _structural(_whole_tokens(text))


def _whole_tokens(text: str) -> str:
    for secret in _ordered:
        if secret in text:  # a substring test first: almost no text holds a secret
            text = _pattern(secret).sub(MASK, text)
    return text


def _structural(text: str) -> str:
    lowered = text.lower()
    for triggers, pattern, replacement in _PATTERNS:
        if any(t in lowered for t in triggers):
            text = pattern.sub(replacement, text)
    return text


def redact_bytes(body: bytes) -> bytes:
    """Return ``body`` with every registered secret replaced (no pattern layer: bodies are data)."""
    for secret in _ordered:
        raw = secret.encode()
        if raw in body:
            body = _bytes_pattern(raw).sub(MASK.encode(), body)
    return body


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return a copy of ``headers`` without auth/cookie values and with other values redacted."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, str] = {}
    for key, value in items:
        result[key] = MASK if key.lower() in _SENSITIVE_HEADERS else redact(value)
    return result


def _redact_arg(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value  # numbers are never secret-typed, and %d must keep working
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # a broken __str__ must not break logging
        return value
    cleaned = _whole_tokens(text)  # the structural patterns run on the whole message
    return value if cleaned == text else cleaned


def _scrub_args(record: logging.LogRecord) -> bool:
    """Redact the arguments of ``record``; False when it has none (pre-formatted text)."""
    args = record.args
    if isinstance(args, Mapping):
        record.args = {k: _redact_arg(v) for k, v in args.items()}
        return True
    if isinstance(args, tuple) and args:
        record.args = tuple(_redact_arg(a) for a in args)
        return True
    return False


def _scrub_record(record: logging.LogRecord) -> None:
    """Redact ``record`` in place, touching ``msg`` only when something had to be masked.

    The format string is code, not data: registered secrets are looked for in the
    arguments (so with the password ``bridge`` the message "bridge starting" stays), the
    structural patterns in the whole message. A record without arguments (pre-formatted by
    a library or an f-string) is redacted as a whole.
    """
    has_args = _scrub_args(record)
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a broken format string must not break logging
        message, has_args = str(record.msg), False
    cleaned = _structural(message) if has_args else redact(message)
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
