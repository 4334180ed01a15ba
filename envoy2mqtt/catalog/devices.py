"""The physical devices: which exist in a snapshot, and their Home Assistant device info."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from envoy2mqtt.catalog.naming import join_id
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.spec import DeviceKind
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData

MANUFACTURER = "Enphase"
ID_PREFIX = "envoy2mqtt"


def _serial_of(device: Any) -> Sequence[str | None]:
    return [device.serial_number] if device is not None else []


_ITEMS: dict[DeviceKind, Callable[[EnvoyData], Sequence[str | None]]] = {
    DeviceKind.GATEWAY: lambda _d: [None],
    DeviceKind.STORAGE_OWNER: lambda _d: [None],
    DeviceKind.INVERTER: lambda d: sorted(d.inverters),
    DeviceKind.ENCHARGE: lambda d: sorted(
        set(d.encharge_inventory or {}) | set(d.encharge_power or {})
    ),
    # HA needs the Enpower for relay devices (they hang off it).
    DeviceKind.RELAY: lambda d: (
        sorted(set(d.dry_contact_status) | set(d.dry_contact_settings)) if d.enpower else []
    ),
    DeviceKind.ACB: lambda d: [None] if d.acb_power is not None else [],
    DeviceKind.ENPOWER: lambda d: _serial_of(d.enpower),
    DeviceKind.COLLAR: lambda d: _serial_of(d.collar),
    DeviceKind.C6CC: lambda d: _serial_of(d.c6cc),
}


def device_items(snapshot: Snapshot, kind: DeviceKind) -> Sequence[str | None]:
    """Return the device ids of ``kind`` present in ``snapshot`` (``None`` for singletons)."""
    if kind is DeviceKind.STORAGE_OWNER and _owner_pending(snapshot):
        return []
    return _ITEMS[kind](snapshot.data)


def _owner_pending(snapshot: Snapshot) -> bool:
    # The probe found an Enpower but its data (another group, often polled after the
    # tariff) has not arrived: announcing the storage controls on the gateway now would
    # move them to the Enpower a moment later, which Home Assistant handles as a removal
    # and a new entity (losing the user's name and area for them) on every start.
    return SupportedFeatures.ENPOWER in snapshot.features and snapshot.data.enpower is None


def resolve(
    snapshot: Snapshot, kind: DeviceKind, ident: str | None
) -> tuple[DeviceKind, str | None]:
    """Map the virtual storage owner to the Enpower if there is one, else the gateway."""
    if kind is DeviceKind.STORAGE_OWNER:
        enpower = snapshot.data.enpower
        if enpower is not None:
            return DeviceKind.ENPOWER, enpower.serial_number
        return DeviceKind.GATEWAY, None
    return kind, ident


def device_slug(kind: DeviceKind, ident: str | None) -> str:
    """The device part of unique ids: ``envoy``, ``inverter_<sn>``, ``relay_<id>``, ``acb``…"""
    if kind is DeviceKind.GATEWAY:
        return "envoy"
    if ident is None:
        return kind.value
    return join_id(kind.value, ident)


def device_id(
    snapshot: Snapshot, kind: DeviceKind, ident: str | None, prefix: str = ID_PREFIX
) -> str:
    """Globally unique HA device identifier (also the device-discovery node id).

    ``prefix`` keeps separate namespaces apart (the demo uses ``envoy2mqtt-demo``), so
    two bridges seeing the same serial never share a device.
    """
    if kind is DeviceKind.GATEWAY:
        return join_id(prefix, snapshot.serial)
    return join_id(prefix, snapshot.serial, device_slug(kind, ident))


def _gateway(snapshot: Snapshot) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": snapshot.name,
        "model": snapshot.model,
        "sw_version": snapshot.firmware,
        "hw_version": snapshot.part_number,
        "serial_number": snapshot.serial,
    }
    mac = snapshot.network.mac if snapshot.network is not None else None
    if mac is not None:
        # As HA's own integration does: HA merges devices that share a connection.
        info["connections"] = [["mac", mac]]
    return info


def _encharge(d: EnvoyData, sn: str) -> dict[str, Any]:
    battery = (d.encharge_inventory or {}).get(sn)
    info = {"name": f"Encharge {sn}", "model": "Encharge", "serial_number": sn}
    return info | ({"sw_version": battery.firmware_version} if battery else {})


def _relay(d: EnvoyData, sn: str) -> dict[str, Any]:
    settings = d.dry_contact_settings.get(sn)
    info = {"name": (settings.load_name if settings else "") or sn, "model": "Dry contact relay"}
    return info | ({"sw_version": d.enpower.firmware_version} if d.enpower else {})


def _unit(name: str, model: str, device: Any) -> dict[str, Any]:
    sn = device.serial_number if device is not None else ""
    fw = {"sw_version": device.firmware_version} if device is not None else {}
    return {"name": f"{name} {sn}", "model": model, "serial_number": sn} | fw


_DESCRIBE: dict[DeviceKind, Callable[[EnvoyData, str], dict[str, Any]]] = {
    DeviceKind.INVERTER: lambda _d, sn: {
        "name": f"Inverter {sn}",
        "model": "Inverter",
        "serial_number": sn,
    },
    DeviceKind.ENCHARGE: _encharge,
    DeviceKind.RELAY: _relay,
    DeviceKind.ENPOWER: lambda d, _sn: _unit("Enpower", "Enpower", d.enpower),
    DeviceKind.COLLAR: lambda d, _sn: _unit("Collar", "IQ Meter Collar", d.collar),
    DeviceKind.C6CC: lambda d, _sn: _unit("C6 Combiner", "C6 COMBINER CONTROLLER", d.c6cc),
}


def _described(snapshot: Snapshot, kind: DeviceKind, ident: str | None) -> dict[str, Any]:
    if kind is DeviceKind.ACB:
        return {"name": f"ACB {snapshot.serial}", "model": "ACB"}
    return _DESCRIBE[kind](snapshot.data, ident or "")


def device_info(
    snapshot: Snapshot, kind: DeviceKind, ident: str | None, prefix: str = ID_PREFIX
) -> dict[str, Any]:
    """HA ``device`` object (entity-catalogue §2); non-gateway devices link via the gateway.

    Relays link via the Enpower, as in HA (which itself links via the gateway).
    """
    kind, ident = resolve(snapshot, kind, ident)
    ids = [device_id(snapshot, kind, ident, prefix)]
    base = {"identifiers": ids, "manufacturer": MANUFACTURER}
    if kind is DeviceKind.GATEWAY:
        return base | _gateway(snapshot)
    info = base | _described(snapshot, kind, ident)
    via = device_id(snapshot, DeviceKind.GATEWAY, None, prefix)
    if kind is DeviceKind.RELAY and snapshot.data.enpower is not None:
        via = device_id(snapshot, DeviceKind.ENPOWER, snapshot.data.enpower.serial_number, prefix)
    return info | {"via_device": via}
