"""Process-wide logging setup: text or JSON, one line per event, secrets redacted.

Every handler we install carries :class:`envoy2mqtt.redact.RedactingFilter`, and the
redacting log-record factory is switched on, so a secret never reaches the output even when
a third-party library logs it.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Literal, TextIO

import msgspec

from envoy2mqtt.redact import RedactingFilter, install_log_redaction

__all__ = ["JsonFormatter", "TextFormatter", "add_filter", "error_text", "setup_logging"]

LogFormat = Literal["text", "json"]

# Marks the handler we own, so setup_logging() can be called again (tests, config reload)
# without stacking handlers.
_HANDLER_NAME = "envoy2mqtt"
# Chatty libraries whose debug output would drown ours (and could contain payloads).
# "mqtt" is the logger aiomqtt hands to paho; amqtt (the demo broker) logs every payload at debug.
_QUIET_LOGGERS = ("mqtt", "asyncio", "amqtt", "transitions")


def error_text(error: BaseException) -> str:
    """An exception for an ``error=`` log field: its text, or its type's name if that is empty.

    ``TimeoutError()`` (what ``asyncio.timeout`` raises) and some library errors have an
    empty ``str()``; a line ending in ``error=`` would name nothing.
    """
    return str(error) or type(error).__name__


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", " | ")


def _timestamp(created: float) -> str:
    millis = int((created % 1) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{millis:03d}Z"


class TextFormatter(logging.Formatter):
    """``<UTC time> <LEVEL> <logger> <message>`` with tracebacks folded onto the same line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as exactly one line."""
        line = (
            f"{_timestamp(record.created)} {record.levelname} {record.name} {record.getMessage()}"
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += f" exc={record.exc_text}"
        return _one_line(line)


class JsonFormatter(logging.Formatter):
    """One compact JSON object per record: ``ts``, ``level``, ``logger``, ``msg`` [, ``exc``]."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one JSON line."""
        event: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            event["exc"] = record.exc_text
        return msgspec.json.encode(event).decode()


def _our_handler() -> logging.Handler | None:
    return next((h for h in logging.getLogger().handlers if h.name == _HANDLER_NAME), None)


def setup_logging(
    level: str = "info", fmt: LogFormat = "text", stream: TextIO | None = None
) -> logging.Handler:
    """Configure the root logger once (idempotent: a second call replaces our handler).

    Args:
        level: ``debug``, ``info``, ``warning`` or ``error``.
        fmt: ``text`` (human readable) or ``json`` (one object per line).
        stream: Where to write; standard error by default.

    Returns:
        The installed handler (tests attach to it; :func:`add_filter` adds filters to it).
    """
    install_log_redaction()
    root = logging.getLogger()
    previous = _our_handler()
    if previous is not None:
        root.removeHandler(previous)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.name = _HANDLER_NAME
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler


def add_filter(log_filter: logging.Filter) -> None:
    """Attach ``log_filter`` to the handler installed by :func:`setup_logging`.

    Raises:
        RuntimeError: :func:`setup_logging` has not been called.
    """
    handler = _our_handler()
    if handler is None:
        msg = "setup_logging() must run before add_filter()"
        raise RuntimeError(msg)
    handler.addFilter(log_filter)
