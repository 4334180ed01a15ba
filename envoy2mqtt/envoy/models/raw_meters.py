"""Raw bodies of ``/ivp/meters`` (CT configuration) and ``/ivp/meters/readings``."""

from __future__ import annotations

import msgspec


class MeterConfig(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """One CT as configured in ``/ivp/meters``."""

    eid: int | str
    state: str
    measurement_type: str | None = None
    phase_mode: str | None = None
    phase_count: int = 1
    metering_status: str | None = None
    status_flags: list[str] | None = None


class MeterChannel(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """The readings of one CT (aggregate) or of one of its phase channels."""

    eid: int | str
    timestamp: int
    act_energy_dlvd: float
    act_energy_rcvd: float
    active_power: float
    pwr_factor: float
    voltage: float
    current: float
    freq: float


class MeterReading(MeterChannel, kw_only=True, rename="camel", gc=False):
    """One CT's readings in ``/ivp/meters/readings`` with its per-phase channels."""

    channels: list[MeterChannel] | None = None


METERS_DECODER = msgspec.json.Decoder(list[MeterConfig], strict=False)
READINGS_DECODER = msgspec.json.Decoder(list[MeterReading], strict=False)
