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


def inverter_from_device(device: Device) -> Inverter | None:
    """Convert one ``device_data`` PCU; None when its minimal data set is incomplete."""
    channels = device.channels
    serial = device.sn
    if not channels or serial is None:
        return None
    channel = channels[0]
    reading, watts = channel.last_reading, channel.watts
    if reading is None or watts is None:
        return None
    end_date, now, peak = reading.end_date, watts.now, watts.max
    if end_date is None or now is None or peak is None:
        return None
    duration, joules = reading.duration, reading.joules_produced
    lifetime = channel.lifetime.joules_produced if channel.lifetime else None
    # Milli-units to units; the None checks are inline because this runs per inverter.
    dc_v, dc_a = reading.dc_voltage_mv, reading.dc_current_ma
    ac_v, ac_a, ac_hz = reading.ac_voltage_mv, reading.ac_current_ma, reading.ac_frequency_mhz
    return Inverter(
        serial_number=serial,
        last_report_date=end_date,
        last_report_watts=now,
        max_report_watts=peak,
        dc_voltage=None if dc_v is None else dc_v / 1000.0,
        dc_current=None if dc_a is None else dc_a / 1000.0,
        ac_voltage=None if ac_v is None else ac_v / 1000.0,
        ac_current=None if ac_a is None else ac_a / 1000.0,
        ac_frequency=None if ac_hz is None else ac_hz / 1000.0,
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
        if type(device) is Device and device.dev_name == "pcu" and device.active and device.sn
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
        for device in doc.values():
            if type(device) is not Device or device.dev_name != "pcu" or not device.active:
                continue
            if not device.sn:
                continue
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
