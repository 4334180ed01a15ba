"""An in-process MQTT broker (amqtt) on 127.0.0.1 for ``envoy2mqtt demo``.

It exists so that the demo works without installing mosquitto; it is never used by
``envoy2mqtt run``. Anonymous access only, loopback only, no persistence. amqtt comes with
the ``demo`` extra (``pip install 'envoy2mqtt[demo]'``) so that plain installs and the image
do not carry its dependency tree.
"""

from __future__ import annotations

import importlib.util
import logging
import socket
from types import TracebackType
from typing import Any

_LOGGER = logging.getLogger(__name__)
_LOOPBACK = "127.0.0.1"


MISSING_HINT = (
    "the embedded MQTT broker needs the 'demo' extra: pip install 'envoy2mqtt[demo]' "
    "(from a source checkout: pip install '.[demo]'), or use a broker you have with "
    "--mqtt-host HOST"
)


def broker_available() -> bool:
    """Whether amqtt (the ``demo`` extra) is installed."""
    try:
        return importlib.util.find_spec("amqtt.broker") is not None
    except (ImportError, ValueError):  # a parent package that is missing or blocked
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((_LOOPBACK, 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """Start and stop an anonymous amqtt broker bound to ``127.0.0.1``.

    Use as ``async with EmbeddedBroker() as broker: ... broker.port``.
    """

    def __init__(self, port: int | None = None) -> None:
        """Prepare a broker on ``port`` (a free random port when None)."""
        self.host = _LOOPBACK
        self.port = port if port is not None else _free_port()
        self._broker: Any = None

    async def start(self) -> None:
        """Start listening; raises OSError when the port is taken."""
        # Imported late: amqtt is heavy and only the demo needs it.
        from amqtt.broker import Broker  # noqa: PLC0415

        config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        self._broker = Broker(config)
        await self._broker.start()
        _LOGGER.info("broker started host=%s port=%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop the broker and drop every session (idempotent)."""
        if self._broker is None:
            return
        broker, self._broker = self._broker, None
        await broker.shutdown()
        _LOGGER.info("broker stopped port=%d", self.port)

    async def __aenter__(self) -> EmbeddedBroker:
        """Start the broker."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the broker."""
        await self.stop()
