"""Per-device legacy AC Batteries from ``/inventory.json?deleted=1``."""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import (
    EnvoyAuthenticationRequired,
    EnvoyHTTPStatusError,
    EnvoyMalformedResponse,
)
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import ACB, EnvoyData
from envoy2mqtt.envoy.models.raw_inventory import ACB_DECODER, INVENTORY_DECODER, RawAcb
from envoy2mqtt.envoy.models.raw_inverters import (
    DEV_TYPE_ACB,
    INVERTERS_V1_DECODER,
    InverterV1,
)
from envoy2mqtt.envoy.updaters.base import GENERIC_DECODER, Reader, Updater, probe_fetch

_LOGGER = logging.getLogger(__name__)

_CHARGE_STATES = frozenset({"charging", "discharging", "idle"})
_DECOMMISSIONED = 0


def _has_active_acb(doc: Any) -> bool:
    if not isinstance(doc, list):
        return False
    for group in doc:
        if not isinstance(group, dict) or group.get("type") != "ACB":
            continue
        devices = group.get("devices", [])
        # admin_state 0 means decommissioned (listed because of deleted=1); absent means active.
        if isinstance(devices, list) and any(
            isinstance(d, dict) and d.get("admin_state") != _DECOMMISSIONED for d in devices
        ):
            return True
    return False


def _acb(device: RawAcb, serial: str, inverter: InverterV1 | None) -> ACB:
    status = str(device.charge_status if device.charge_status is not None else "unknown").lower()
    return ACB(
        serial_num=serial,
        part_num=device.part_num,
        sleep_enabled=device.sleep_enabled,
        charge_status=status if status in _CHARGE_STATES else "unknown",
        device_status=[str(flag) for flag in device.device_status],
        percent_full=device.percent_full,
        max_cell_temp=device.max_cell_temp,
        communicating=device.communicating,
        operating=device.operating,
        producing=device.producing,
        sleep_min_soc=device.sleep_min_soc,
        sleep_max_soc=device.sleep_max_soc,
        last_report_date=inverter.last_report_date if inverter else None,
        last_report_watts=inverter.last_report_watts if inverter else None,
        max_report_watts=inverter.max_report_watts if inverter else None,
    )


async def _acb_inverters(reader: Reader) -> dict[str, InverterV1]:
    """Return the AC Batteries' inverter reports (devType 11); empty when unavailable."""
    try:
        devices = await reader.decode(endpoints.INVERTERS_V1, INVERTERS_V1_DECODER)
    except (EnvoyHTTPStatusError, EnvoyMalformedResponse) as err:
        # EnvoyAuthenticationRequired is an EnvoyHTTPStatusError: power details just go missing.
        kind = "unauthorized" if isinstance(err, EnvoyAuthenticationRequired) else "unavailable"
        _LOGGER.debug("acb_inventory inverters=%s path=%s", kind, endpoints.INVERTERS_V1)
        return {}
    return {d.serial_number: d for d in devices if d.dev_type == DEV_TYPE_ACB}


class AcbInventoryUpdater(Updater):
    """Only probed once the production document reported AC Batteries."""

    group = "acb_inventory"

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Confirm ACB with at least one device that is not decommissioned."""
        if SupportedFeatures.ACB not in found:
            return None
        doc = await probe_fetch(reader, endpoints.INVENTORY, GENERIC_DECODER, swallow_auth=True)
        if not _has_active_acb(doc):
            return None
        self.features |= SupportedFeatures.ACB
        return self.features

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill ``acb_inventory`` keyed by serial, joined with the v1 inverter report."""
        groups = await reader.decode(endpoints.INVENTORY, INVENTORY_DECODER)
        inverters = await _acb_inverters(reader)
        result: dict[str, ACB] = {}
        for group in groups:
            if group.type != "ACB":
                continue
            for raw in group.devices:
                try:
                    device = ACB_DECODER.decode(raw)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    continue
                if device.admin_state == _DECOMMISSIONED or not device.serial_num:
                    continue
                serial = str(device.serial_num)
                result[serial] = _acb(device, serial, inverters.get(serial))
        out.acb_inventory = result or None
