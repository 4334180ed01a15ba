"""The gateway's active network interface from ``/home`` (interface, type, MAC, DHCP).

``/home`` is slow (several seconds on real gateways) and what it says changes rarely, so it
is read once per probe, never polled (as Home Assistant does since home-assistant/core PR
143758, which adds this MAC to the gateway's device connections). Firmware that does not
serve ``/home`` answers 404: that is "no network information", not an error.
"""

from __future__ import annotations

import re

import msgspec

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import EnvoyHTTPStatusError, EnvoyMalformedResponse
from envoy2mqtt.envoy.fetch import Fetcher

_MAC = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$")


class NetworkInterface(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The interface ``/home`` names as primary; ``mac`` lowercase ``aa:bb:…`` or None."""

    interface: str
    type: str | None = None
    mac: str | None = None
    dhcp: bool | None = None


class _RawInterface(msgspec.Struct, kw_only=True, gc=False):
    interface: str | None = None
    type: str | None = None
    mac: str | None = None
    dhcp: bool | None = None


class _RawNetwork(msgspec.Struct, kw_only=True, gc=False):
    primary_interface: str | None = None
    interfaces: list[_RawInterface] = msgspec.field(default_factory=list)


class _RawHome(msgspec.Struct, kw_only=True, gc=False):
    network: _RawNetwork | None = None


_DECODER = msgspec.json.Decoder(_RawHome, strict=False)


def _mac(value: str | None) -> str | None:
    text = (value or "").strip().lower().replace("-", ":")
    return text if _MAC.match(text) else None


def parse_home(body: bytes) -> NetworkInterface | None:
    """The primary interface of a ``/home`` body; None when it names none.

    Raises:
        EnvoyMalformedResponse: the body is not the JSON object ``/home`` serves.
    """
    try:
        home = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise EnvoyMalformedResponse(endpoints.HOME, str(err)) from err
    network = home.network
    if network is None or not network.primary_interface:
        return None
    for raw in network.interfaces:
        if raw.interface == network.primary_interface:
            return NetworkInterface(
                interface=raw.interface, type=raw.type, mac=_mac(raw.mac), dhcp=raw.dhcp
            )
    return None


async def read_network(fetcher: Fetcher) -> NetworkInterface | None:
    """GET ``/home`` and parse it; None when the firmware does not serve it (404).

    Raises:
        EnvoyError: transport failure, authentication, another HTTP error or a bad body.
    """
    response = await fetcher.request("GET", endpoints.HOME)
    if response.status == 404:
        return None
    if response.status != 200:
        raise EnvoyHTTPStatusError(response.status, endpoints.HOME)
    return parse_home(response.body)
