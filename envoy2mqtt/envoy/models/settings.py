"""Dry contacts, tariff with storage settings, and the generator: the models behind the controls."""

from __future__ import annotations

from typing import Any

from envoy2mqtt.envoy.models.base import Model


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
