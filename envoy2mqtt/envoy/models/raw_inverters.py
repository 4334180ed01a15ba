"""Raw bodies of ``/api/v1/production/inverters`` and ``/ivp/pdm/device_data``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from envoy2mqtt.envoy.models.data import Inverter
from envoy2mqtt.envoy.models.wire import wire_form

if TYPE_CHECKING:  # the twin has exactly Inverter's attributes (see models.wire)
    InverterV1 = Inverter
else:
    InverterV1 = wire_form(Inverter, rename="camel")
"""One device in ``/api/v1/production/inverters``, decoded into an :class:`Inverter`.

Every device type is included (pyenphase's default v2 ACB mode), so ``devType`` is not read.
"""


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
