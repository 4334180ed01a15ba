"""The normalised data model every consumer reads (field names and units follow pyenphase).

``msgspec.to_builtins(data)`` yields exactly the ``data`` object of ``fixtures/*/expected.json``.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Model(msgspec.Struct, kw_only=True):
    """Base for normalised models: keyword-only, comparable, JSON-encodable.

    Leaf models (scalars and lists/dicts of JSON values only, so they can never be part of
    a reference cycle) are ``gc=False``: hundreds are built per update and the cycle
    collector need not track them. Models with 16 or more fields also accept positional
    arguments (``kw_only=False``): CPython compiles calls with that many keyword arguments
    into a slow dict-building call, about five times the cost of a positional one.
    """


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


class Encharge(Model, gc=False, kw_only=False):
    """One IQ Battery (Encharge) from the ensemble inventory."""

    admin_state: int
    admin_state_str: str
    bmu_firmware_version: str
    comm_level_2_4_ghz: int
    comm_level_sub_ghz: int
    communicating: bool
    dc_switch_off: bool
    encharge_capacity: int
    encharge_revision: int
    firmware_loaded_date: int
    firmware_version: str
    installed_date: int
    last_report_date: int
    led_status: int
    max_cell_temp: int
    operating: bool | None
    part_number: str
    percent_full: int
    serial_number: str
    temperature: int
    temperature_unit: str
    zigbee_dongle_fw_version: str | None


class EnchargePower(Model, gc=False):
    """Per-battery power from ``/ivp/ensemble/power`` (milli-units, signed)."""

    apparent_power_mva: int
    real_power_mw: int
    soc: int


class EnchargeAggregate(Model, gc=False):
    """Aggregate IQ Battery state from ``/ivp/ensemble/secctrl``."""

    available_energy: int
    backup_reserve: int
    state_of_charge: int
    reserve_state_of_charge: int
    configured_reserve_state_of_charge: int
    max_available_capacity: int


class Enpower(Model, gc=False, kw_only=False):
    """IQ System Controller (Enpower); temperature in degrees Fahrenheit."""

    grid_mode: str
    admin_state: int
    admin_state_str: str
    comm_level_2_4_ghz: int
    comm_level_sub_ghz: int
    communicating: bool
    firmware_loaded_date: int
    firmware_version: str
    installed_date: int
    last_report_date: int
    mains_admin_state: str
    mains_oper_state: str
    operating: bool | None
    part_number: str
    serial_number: str
    temperature: int
    temperature_unit: str
    zigbee_dongle_fw_version: str | None


class Collar(Model, gc=False):
    """IQ Meter Collar."""

    admin_state: int
    admin_state_str: str | None
    firmware_loaded_date: int
    firmware_version: str
    installed_date: int
    last_report_date: int
    communicating: bool
    mid_state: str
    grid_state: str
    part_number: str
    serial_number: str
    temperature: int
    temperature_unit: str
    control_error: int
    collar_state: str


class C6CC(Model, gc=False):
    """C6 Combiner Controller."""

    admin_state: int
    admin_state_str: str
    firmware_loaded_date: int
    firmware_version: str
    installed_date: int
    last_report_date: int
    communicating: bool
    part_number: str
    serial_number: str
    dmir_version: str


class ACBPower(Model, gc=False):
    """Aggregate legacy AC Battery state from ``production.json`` ``storage[0]``."""

    power: int
    charge_wh: int
    state_of_charge: int
    state: str
    batteries: int


class ACB(Model, gc=False):
    """One legacy AC Battery from ``/inventory.json`` joined with v1 inverter data."""

    serial_num: str
    part_num: str
    sleep_enabled: bool
    charge_status: str
    device_status: list[str]
    percent_full: int
    max_cell_temp: int | None
    communicating: bool
    operating: bool
    producing: bool
    sleep_min_soc: int | None
    sleep_max_soc: int | None
    last_report_date: int | None
    last_report_watts: int | None
    max_report_watts: int | None


class BatteryAggregate(Model, gc=False):
    """Combined IQ Battery + AC Battery state (only when ACBs are reported)."""

    available_energy: int
    state_of_charge: int
    max_available_capacity: int


class DryContactStatus(Model, gc=False):
    """Open/closed state of one dry-contact relay."""

    id: str
    status: str


class DryContactSettings(Model, dict=True, kw_only=False):
    """Configuration of one dry-contact relay (booleans decoded from the Envoy's strings).

    ``dict=True``: the data side attaches the Envoy's own settings document to each instance
    as private state (neither encoded nor compared), because a settings write must send back
    the relay's keys this model does not hold (see ``models.raw_dry_contacts.wire_relay``).
    """

    id: str
    black_start: float | None
    essential_end_time: float | None
    essential_start_time: float | None
    generator_action: str
    grid_action: str
    load_name: str
    manual_override: bool | None
    micro_grid_action: str
    mode: str
    override: bool
    priority: float | None
    pv_serial_nb: list[Any]
    soc_high: float
    soc_low: float
    type: str


class StorageSettings(Model, gc=False):
    """Battery storage settings inside the tariff."""

    mode: str | None
    operation_mode_sub_type: str
    reserved_soc: float
    very_low_soc: int
    charge_from_grid: bool
    date: str | None = None
    opt_schedules: bool | None = None


class Tariff(Model):
    """Tariff document; everything except ``storage_settings`` is passed through unchanged."""

    currency: dict[str, Any]
    logger: str | None
    date: str | None
    storage_settings: StorageSettings | None
    single_rate: dict[str, Any]
    seasons: list[Any]
    seasons_sell: list[Any] | None


class Generator(Model, gc=False):
    """Generator status from ``/ivp/ensemble/generator``."""

    admin_state: str
    oper_state: str
    admin_mode: int
    schedule: int
    start_soc: int
    stop_soc: int
    exc_on: int
    present: bool
    type: int


class GeneratorConfig(Model, gc=False):
    """Generator configuration from ``/ivp/ss/gen_config``."""

    max_cont_gen_amps: float
    min_gen_loading_perc: int
    max_gen_efficiency_perc: int
    name_plate_rating_wat: float
    start_method: str
    warm_up_mins: int
    cool_down_mins: int
    gen_type: str
    model: str
    manufacturer: str
    last_updated_by: str
    generator_id: str
    charge_from_generator: bool


class GeneratorSchedule(Model):
    """Generator exercise schedule from ``/ivp/ss/gen_schedule`` (flattened)."""

    exercise_freq_in_weeks: int
    exercise_start: int
    exercise_duration: int
    exercise_day: str
    default_start_soc: int
    default_stop_soc: int
    last_updated_by: str
    schedule: dict[str, Any]


class GeneratorMode(Model, gc=False):
    """Generator command mode from ``/ivp/ss/gen_mode``."""

    gen_cmd: str
    last_updated_by: str


PhaseEnergy = dict[str, SystemEnergy | None]
PhaseMeters = dict[str, MeterData | None]


class LivePhase(Model, gc=False):
    """One phase of the live power flows (W; grid + import / - export, storage + discharge)."""

    pv_power: int | None = None
    grid_power: int | None = None
    load_power: int | None = None
    storage_power: int | None = None
    generator_power: int | None = None


class LiveData(Model):
    """Live readings from ``/ivp/livedata/status`` (token firmware), powers in W.

    Not part of pyenphase's data: :func:`envoy2mqtt.envoy.export.export_state` leaves it out.

    Attributes:
        last_update: epoch seconds of the Envoy's last live refresh.
        stream_enabled: whether the Envoy was streaming (values refresh only while it does).
        pv_power: solar production.
        grid_power: grid exchange, + import / - export.
        load_power: house consumption.
        storage_power: battery power, + discharge / - charge.
        generator_power: generator output.
        soc: aggregate battery level (%).
        backup_soc: battery reserve kept for outages (%).
        phases: per-phase powers keyed ``L1``..``L3`` (only on multi-phase systems).
    """

    last_update: int | None = None
    stream_enabled: bool | None = None
    pv_power: int | None = None
    grid_power: int | None = None
    load_power: int | None = None
    storage_power: int | None = None
    generator_power: int | None = None
    soc: int | float | None = None
    backup_soc: int | float | None = None
    enc_agg_soc: int | float | None = None
    enc_agg_energy: int | float | None = None
    acb_agg_soc: int | float | None = None
    acb_agg_energy: int | float | None = None
    main_relay_state: int | None = None
    gen_relay_state: int | None = None
    backup_bat_mode: int | None = None
    phase_count: int | None = None
    is_split_phase: bool | None = None
    phases: dict[str, LivePhase] = msgspec.field(default_factory=dict)


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
