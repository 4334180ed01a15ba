"""The gateway's ``/home`` document: its configured time zone and local clock.

``/home`` is served by token firmware (7.x, 8.x) as JSON; legacy firmware answers with an
HTML page or 404. Only what the bridge needs is decoded: the IANA ``timezone`` the Envoy
uses for its day (its "today" counters reset at local midnight), its local date/time and
its active network interface (MAC; :mod:`envoy2mqtt.envoy.network`). Reading it never
fails a poll: an unusable answer means "not served".
"""

from __future__ import annotations

import asyncio
import logging

import msgspec

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import EnvoyError
from envoy2mqtt.envoy.fetch import Fetcher
from envoy2mqtt.envoy.network import NetworkInterface, primary_interface

_LOGGER = logging.getLogger(__name__)


class EnvoyHome(msgspec.Struct, frozen=True, kw_only=True):
    """The part of ``/home`` the bridge uses (unknown keys ignored).

    Attributes:
        timezone: IANA zone name as configured on the gateway (``US/Central``), or None.
        current_date: the gateway's local date as it shows it (``08/01/2026``), or None.
        current_time: the gateway's local time (``09:09``), or None.
        interface: the interface ``network.primary_interface`` names, or None.
    """

    timezone: str | None = None
    current_date: str | None = None
    current_time: str | None = None
    interface: NetworkInterface | None = None


class _HomeJson(msgspec.Struct, frozen=True, kw_only=True):
    timezone: str | None = None
    current_date: str | None = None
    current_time: str | None = None


_DECODER = msgspec.json.Decoder(_HomeJson)


def parse_home(body: bytes) -> EnvoyHome | None:
    """Decode a ``/home`` body; None when it is not the JSON document (legacy HTML)."""
    try:
        raw = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return EnvoyHome(
        timezone=raw.timezone,
        current_date=raw.current_date,
        current_time=raw.current_time,
        interface=primary_interface(body),
    )


#: A gateway answers ``/home`` at once (its local web page uses it); never hold up a probe.
HOME_TIMEOUT = 10.0


async def read_home(fetcher: Fetcher) -> EnvoyHome | None:
    """GET ``/home``; None when the gateway does not serve it (any error is only logged)."""
    try:
        async with asyncio.timeout(HOME_TIMEOUT):
            response = await fetcher.request("GET", endpoints.HOME)
    except (EnvoyError, TimeoutError) as exc:
        _LOGGER.debug("home unavailable error=%s", type(exc).__name__)
        return None
    if response.status != 200:
        _LOGGER.debug("home unavailable status=%d", response.status)
        return None
    return parse_home(response.body)
