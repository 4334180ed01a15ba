"""The normalised data model every consumer reads (field names and units follow pyenphase).

`EnvoyData` and the energy, meter and inverter parts live here; the other parts live in
`devices`, `settings` and `live` and are re-exported, so `models.data` names them all.

``msgspec.to_builtins(data)`` yields exactly the ``data`` object of ``fixtures/*/expected.json``.
"""

from __future__ import annotations

import msgspec

from envoy2mqtt.envoy.models.base import Model
from envoy2mqtt.envoy.models.devices import (
    ACB,
    C6CC,
    ACBPower,
    BatteryAggregate,
    Collar,
    Encharge,
    EnchargeAggregate,
    EnchargePower,
    Enpower,
)
from envoy2mqtt.envoy.models.live import LiveData, LivePhase
from envoy2mqtt.envoy.models.settings import (
    DryContactSettings,
    DryContactStatus,
    Generator,
    GeneratorConfig,
    GeneratorMode,
    GeneratorSchedule,
    StorageSettings,
    Tariff,
)


class SystemEnergy(Model, gc=False):
    """Power and energy totals (production, consumption or net consumption) or one phase of them."""

    watt_hours_lifetime: int
    watt_hours_last_7_days: int
    watt_hours_today: int
    watts_now: int


class MeterData(Model, gc=False):
    """One CT meter reading (aggregate or one phase), joined with its ``/ivp/meters`` config."""

    eid: int | str
    timestamp: int
    energy_delivered: int
    energy_received: int
    active_power: int
    power_factor: float
    voltage: float
    current: float
    frequency: float
    state: str | None = None
    measurement_type: str | None = None
    metering_status: str | None = None
    status_flags: list[str] | None = None


class Inverter(Model, gc=False):
    """One microinverter (or, in v2 ACB mode, an AC battery's inverter)."""

    serial_number: str
    last_report_date: int
    last_report_watts: int
    max_report_watts: int
    dc_voltage: float | None = None
    dc_current: float | None = None
    ac_voltage: float | None = None
    ac_current: float | None = None
    ac_frequency: float | None = None
    temperature: float | None = None
    lifetime_energy: int | None = None
    energy_produced: float | None = None
    energy_today: int | None = None
    last_report_duration: int | None = None


PhaseEnergy = dict[str, SystemEnergy | None]
PhaseMeters = dict[str, MeterData | None]


class EnvoyData(Model):
    """Everything read from one Envoy in one update; ``None``/empty means not present."""

    encharge_inventory: dict[str, Encharge] | None = None
    encharge_power: dict[str, EnchargePower] | None = None
    encharge_aggregate: EnchargeAggregate | None = None
    enpower: Enpower | None = None
    generator: Generator | None = None
    generator_config: GeneratorConfig | None = None
    generator_schedule: GeneratorSchedule | None = None
    generator_mode: GeneratorMode | None = None
    acb_power: ACBPower | None = None
    acb_inventory: dict[str, ACB] | None = None
    battery_aggregate: BatteryAggregate | None = None
    collar: Collar | None = None
    c6cc: C6CC | None = None
    system_consumption: SystemEnergy | None = None
    system_production: SystemEnergy | None = None
    system_consumption_phases: PhaseEnergy | None = None
    system_production_phases: PhaseEnergy | None = None
    system_net_consumption: SystemEnergy | None = None
    system_net_consumption_phases: PhaseEnergy | None = None
    ctmeters: dict[str, MeterData | None] = msgspec.field(default_factory=dict)
    ctmeters_phases: dict[str, PhaseMeters] = msgspec.field(default_factory=dict)
    ctmeter_production: MeterData | None = None
    ctmeter_consumption: MeterData | None = None
    ctmeter_storage: MeterData | None = None
    ctmeter_production_phases: PhaseMeters | None = None
    ctmeter_consumption_phases: PhaseMeters | None = None
    ctmeter_storage_phases: PhaseMeters | None = None
    dry_contact_status: dict[str, DryContactStatus] = msgspec.field(default_factory=dict)
    dry_contact_settings: dict[str, DryContactSettings] = msgspec.field(default_factory=dict)
    inverters: dict[str, Inverter] = msgspec.field(default_factory=dict)
    tariff: Tariff | None = None
    livedata: LiveData | None = None


__all__ = [
    "ACB",
    "C6CC",
    "ACBPower",
    "BatteryAggregate",
    "Collar",
    "DryContactSettings",
    "DryContactStatus",
    "Encharge",
    "EnchargeAggregate",
    "EnchargePower",
    "Enpower",
    "EnvoyData",
    "Generator",
    "GeneratorConfig",
    "GeneratorMode",
    "GeneratorSchedule",
    "Inverter",
    "LiveData",
    "LivePhase",
    "MeterData",
    "Model",
    "PhaseEnergy",
    "PhaseMeters",
    "StorageSettings",
    "SystemEnergy",
    "Tariff",
]
