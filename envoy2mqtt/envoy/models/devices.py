"""IQ Battery, System Controller, Collar, C6 combiner and AC Battery models."""

from __future__ import annotations

from envoy2mqtt.envoy.models.base import Model


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
