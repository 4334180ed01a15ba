"""Microinverters from ``/ivp/pdm/device_data`` (detailed) or ``/api/v1/production/inverters``."""

from __future__ import annotations

import logging

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData, Inverter
from envoy2mqtt.envoy.models.raw_inverters import (
    DEVICE_DATA_DECODER,
    INVERTERS_V1_DECODER,
    Device,
)
from envoy2mqtt.envoy.updaters.base import GENERIC_DECODER, Reader, Updater, probe_fetch

_LOGGER = logging.getLogger(__name__)


def _milli(value: float | None) -> float | None:
    return None if value is None else value / 1000.0


def inverter_from_device(device: Device) -> Inverter | None:
    """Convert one ``device_data`` PCU; None when its minimal data set is incomplete."""
    if not device.channels or device.sn is None:
        return None
    channel = device.channels[0]
    reading, watts = channel.last_reading, channel.watts
    if reading is None or reading.end_date is None or watts is None:
        return None
    if watts.now is None or watts.max is None:
        return None
    duration, joules = reading.duration, reading.joules_produced
    lifetime = channel.lifetime.joules_produced if channel.lifetime else None
    return Inverter(
        serial_number=device.sn,
        last_report_date=reading.end_date,
        last_report_watts=watts.now,
        max_report_watts=watts.max,
        dc_voltage=_milli(reading.dc_voltage_mv),
        dc_current=_milli(reading.dc_current_ma),
        ac_voltage=_milli(reading.ac_voltage_mv),
        ac_current=_milli(reading.ac_current_ma),
        ac_frequency=_milli(reading.ac_frequency_mhz),
        temperature=reading.channel_temp,
        lifetime_energy=None if lifetime is None else round(lifetime / 3600.0),
        # pyenphase's formula (J / s / 3.6), kept for comparable values.
        energy_produced=(
            round(joules / duration / 3.6, 3)
            if joules is not None and duration is not None and duration > 0
            else None
        ),
        energy_today=channel.watt_hours.today if channel.watt_hours else None,
        last_report_duration=duration,
    )


def _active_pcus(doc: dict[str, Device | int]) -> list[Device]:
    return [
        device
        for device in doc.values()
        if isinstance(device, Device) and device.dev_name == "pcu" and device.active and device.sn
    ]


class DeviceDataUpdater(Updater):
    """Detailed per-inverter data (FW 8.2+), unless the list is truncated."""

    group = "inverters"

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Claim INVERTERS and DETAILED_INVERTERS when every active PCU converts."""
        if SupportedFeatures.INVERTERS in found:
            return None
        doc = await probe_fetch(
            reader, endpoints.DEVICE_DATA, DEVICE_DATA_DECODER, swallow_auth=True
        )
        if doc is None:
            return None
        count, limit = doc.get("deviceCount"), doc.get("deviceDataLimit")
        if not isinstance(count, int) or not isinstance(limit, int):
            return None
        # At the limit the list is truncated: /api/v1/production/inverters has them all.
        if count >= limit:
            _LOGGER.debug("probe path=%s result=truncated count=%d", endpoints.DEVICE_DATA, count)
            return None
        converted = [inverter_from_device(device) for device in _active_pcus(doc)]
        if not converted or None in converted:
            return None
        self.features |= SupportedFeatures.INVERTERS | SupportedFeatures.DETAILED_INVERTERS
        return self.features

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill ``inverters``; a PCU whose data is incomplete is skipped, not fatal."""
        doc = await reader.decode(endpoints.DEVICE_DATA, DEVICE_DATA_DECODER)
        inverters: dict[str, Inverter] = {}
        for device in _active_pcus(doc):
            inverter = inverter_from_device(device)
            if inverter is None:
                _LOGGER.debug("inverters skipped serial=%s reason=incomplete", device.sn)
                continue
            inverters[inverter.serial_number] = inverter
        out.inverters = inverters


class InvertersV1Updater(Updater):
    """Basic per-inverter data; AC Battery inverters (devType 11) are included too."""

    group = "inverters"

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Claim INVERTERS if the endpoint answers (legacy firmware needs the installer user)."""
        if SupportedFeatures.INVERTERS in found:
            return None
        doc = await probe_fetch(reader, endpoints.INVERTERS_V1, GENERIC_DECODER, swallow_auth=True)
        if doc is None:
            return None
        self.features |= SupportedFeatures.INVERTERS
        return self.features

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill ``inverters`` (pyenphase's default v2 ACB mode: every device type)."""
        devices = await reader.decode(endpoints.INVERTERS_V1, INVERTERS_V1_DECODER)
        out.inverters = {
            device.serial_number: Inverter(
                serial_number=device.serial_number,
                last_report_date=device.last_report_date,
                last_report_watts=device.last_report_watts,
                max_report_watts=device.max_report_watts,
            )
            for device in devices
        }
