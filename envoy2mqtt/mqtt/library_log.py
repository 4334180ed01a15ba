"""The logger handed to aiomqtt: its one known false alarm becomes a debug line.

aiomqtt logs ``Unexpected message ID "N" in on_subscribe callback`` (with a KeyError
traceback) at ERROR when a broker's acknowledgement arrives for a request whose waiter
was already cancelled, which is what a clean shutdown in the middle of (re)subscribing
does. Nothing is lost at that point, so an ERROR with a traceback would only alarm users.
Every other record of the library passes unchanged.
"""

from __future__ import annotations

import logging

_LOGGER = logging.getLogger(__name__)
_LATE_ACK = "Unexpected message ID"


class _LateAckFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(_LATE_ACK):
            mid = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            _LOGGER.debug("mqtt late ack ignored mid=%s (its request was cancelled)", mid)
            return False
        return True


def aiomqtt_logger() -> logging.Logger:
    """The ``mqtt`` logger aiomqtt uses by default, with the late-ack filter attached once."""
    logger = logging.getLogger("mqtt")
    if not any(isinstance(f, _LateAckFilter) for f in logger.filters):
        logger.addFilter(_LateAckFilter())
    return logger
