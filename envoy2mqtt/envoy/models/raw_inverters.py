"""Raw bodies of ``/api/v1/production/inverters`` and ``/ivp/pdm/device_data``."""

from __future__ import annotations

import msgspec

DEV_TYPE_PCU = 1
"""``devType`` of a PV microinverter."""
DEV_TYPE_ACB = 11
"""``devType`` of an AC Battery's inverter."""


class InverterV1(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """One device in ``/api/v1/production/inverters``."""

    serial_number: str
    last_report_date: int
    last_report_watts: int
    max_report_watts: int
    dev_type: int = DEV_TYPE_PCU


class Watts(msgspec.Struct, kw_only=True, gc=False):
    """``channels[0].watts``."""

    now: int | None = None
    max: int | None = None


class WattHours(msgspec.Struct, kw_only=True, gc=False):
    """``channels[0].wattHours``."""

    today: int | None = None


class LastReading(msgspec.Struct, kw_only=True, gc=False):
    """``channels[0].lastReading``: the latest report interval (milli-units)."""

    end_date: int | None = msgspec.field(default=None, name="endDate")
    duration: int | None = None
    joules_produced: float | None = msgspec.field(default=None, name="joulesProduced")
    dc_voltage_mv: float | None = msgspec.field(default=None, name="dcVoltageINmV")
    dc_current_ma: float | None = msgspec.field(default=None, name="dcCurrentINmA")
    ac_voltage_mv: float | None = msgspec.field(default=None, name="acVoltageINmV")
    # The Envoy really spells this one differently.
    ac_current_ma: float | None = msgspec.field(default=None, name="acCurrentInmA")
    ac_frequency_mhz: float | None = msgspec.field(default=None, name="acFrequencyINmHz")
    channel_temp: float | None = msgspec.field(default=None, name="channelTemp")


class Lifetime(msgspec.Struct, kw_only=True, gc=False):
    """``channels[0].lifetime``."""

    joules_produced: float | None = msgspec.field(default=None, name="joulesProduced")


class Channel(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """One channel of a device; every part optional because non-PCU devices differ."""

    watts: Watts | None = None
    watt_hours: WattHours | None = None
    last_reading: LastReading | None = None
    lifetime: Lifetime | None = None


class Device(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """One device (keyed by EID) in ``/ivp/pdm/device_data``."""

    dev_name: str | None = None
    sn: str | None = None
    active: bool = False
    channels: list[Channel] | None = None


INVERTERS_V1_DECODER = msgspec.json.Decoder(list[InverterV1], strict=False)
# The document mixes devices with the scalars deviceCount and deviceDataLimit.
DEVICE_DATA_DECODER = msgspec.json.Decoder(dict[str, Device | int], strict=False)
