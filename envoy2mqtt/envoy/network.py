"""The gateway's active network interface, from the ``network`` section of ``/home``.

Home Assistant's integration adds this interface's MAC to the gateway's device connections
(home-assistant/core PR 143758); the bridge publishes it the same way. ``/home`` is read
once per probe (see :mod:`envoy2mqtt.envoy.home`), never polled.
"""

from __future__ import annotations

import re

import msgspec

_MAC = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$")


class NetworkInterface(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The interface ``/home`` names primary; ``mac`` lowercase ``aa:bb:…`` or None."""

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


def primary_interface(body: bytes) -> NetworkInterface | None:
    """The primary interface of a ``/home`` body; None when it names none or is unusable.

    A malformed ``network`` section costs only this information, never the rest of
    ``/home`` (the time zone).
    """
    try:
        network = _DECODER.decode(body).network
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if network is None or not network.primary_interface:
        return None
    for raw in network.interfaces:
        if raw.interface == network.primary_interface:
            return NetworkInterface(
                interface=raw.interface, type=raw.type, mac=_mac(raw.mac), dhcp=raw.dhcp
            )
    return None
