"""The gateway's network interface (``/home``): read once per probe, on the firmware tier.

``/home`` takes seconds on a real gateway, so it is read outside any poll budget and its
failure never counts against availability: a failed read is retried at the next firmware
check, a firmware without ``/home`` (404) is not asked again until the next probe.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from envoy2mqtt.envoy.errors import EnvoyError
from envoy2mqtt.envoy.network import NetworkInterface

_LOGGER = logging.getLogger(__name__)

#: Upper bound for one ``/home`` read (real gateways answer in ~6 s).
READ_TIMEOUT = 60.0


class NetworkInfo:
    """What ``/home`` said for the current probe of one Envoy."""

    def __init__(self, timeout: float = READ_TIMEOUT) -> None:
        """Nothing known yet; the first :meth:`read_if_due` reads."""
        self.current: NetworkInterface | None = None
        self._timeout = timeout
        self._due = True
        self._serial: str | None = None

    def reprobed(self, serial: str | None) -> None:
        """A (re-)probe happened: read again; forget it when the gateway was replaced."""
        self._due = True
        if serial != self._serial:
            self.current, self._serial = None, serial

    async def read_if_due(self, client: Any, host: str) -> bool:
        """Read ``/home`` once per probe; True when what is known changed."""
        reader = getattr(client, "read_network", None)
        if not self._due or reader is None:
            return False
        try:
            async with asyncio.timeout(self._timeout):
                found: NetworkInterface | None = await reader()
        except (EnvoyError, TimeoutError, OSError) as exc:
            _LOGGER.info("network info not read host=%s error=%s", host, exc or type(exc).__name__)
            return False
        self._due = False
        _LOGGER.debug("network info host=%s interface=%s", host, found and found.interface)
        changed = found != self.current
        self.current = found
        return changed
